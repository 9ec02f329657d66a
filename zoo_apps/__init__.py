"""Training apps: one thin absl main per task over `zoo_apps.core`."""
