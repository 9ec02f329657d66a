"""Vision models; importing this module registers them."""

from zoo.vision import centernet, efficientnet_lite, mobilenet, resnet, retinanet, segmentation, simple_cnns  # noqa: F401
