"""Vision models; importing this module registers them."""

from zoo.vision import mobilenet, resnet, simple_cnns  # noqa: F401
