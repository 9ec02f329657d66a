"""Training apps: `python -m zoo_apps.image_classify`."""

import os

# The apps are command-line tools: keep TensorFlow's C++ start-up chatter out of them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
