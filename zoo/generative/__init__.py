"""Generative models; importing this module registers them (task `image_generation`)."""

from zoo.generative import dcgan  # noqa: F401
