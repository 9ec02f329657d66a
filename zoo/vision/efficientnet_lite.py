"""EfficientNet-Lite0: EfficientNet-B0 made for phones' integer accelerators.

Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks"; the Lite variants from the TensorFlow TPU repository (2020): no
squeeze-and-excitation, ReLU6, a fixed 32-channel stem and 1280-channel head.
Layers are named so that `zoo.pretrained.imagenet` maps the ImageNet weights onto them.
"""

import math

import keras

from zoo.registry import register_model
from zoo.vision.stem import pixel_input

BN_EPSILON = 1e-3
# (expand ratio, kernel, stride, output channels, repeats) per stage of Lite0.
LITE0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
                (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # fmt: skip
STEM, HEAD = 32, 1280
# Fine-tuning from ImageNet as scripts/benchmark_transfer.py measured it (README, "ImageNet"): the new head
# alone at 1e-3 for 5 epochs, then 10 epochs of the whole network (batch norm frozen) at 1e-4, constant rates.
IMAGENET_FINE_TUNING = dict(
    head_epochs=5, head_learning_rate=1e-3, epochs=10, learning_rate=1e-4, lr_schedule="constant"
)


def _tf_same_pad(x, kernel, stride, name):
    """Pads as TensorFlow's 'same' does before a stride-2 convolution (more at the bottom/right)."""
    pads = []
    for size in x.shape[1:3]:
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    return keras.layers.ZeroPadding2D(tuple(pads), name=name)(x)


def _bn_relu6(x, name, relu=True):
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x) if relu else x


def _conv(x, filters, kernel, stride, name, relu=True):
    if stride > 1:
        x = _tf_same_pad(x, kernel, stride, f"{name}_pad")
    padding = "valid" if stride > 1 or kernel == 1 else "same"
    x = keras.layers.Conv2D(filters, kernel, stride, padding=padding, use_bias=False, name=name)(x)
    return _bn_relu6(x, name, relu)


def _block(x, expand, kernel, stride, filters, name):
    """Inverted residual (MBConv) without squeeze-and-excitation."""
    inputs, channels = x, x.shape[-1]
    if expand != 1:
        x = _conv(x, channels * expand, 1, 1, f"{name}_expand")
    if stride > 1:
        x = _tf_same_pad(x, kernel, stride, f"{name}_dw_pad")
    x = keras.layers.DepthwiseConv2D(
        kernel, stride, padding="valid" if stride > 1 else "same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = _bn_relu6(x, f"{name}_dw")
    x = _conv(x, filters, 1, 1, f"{name}_project", relu=False)
    if stride == 1 and channels == filters:
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x


@register_model(
    task="image_classification",
    input_shape=(224, 224, 3),
    recipe=dict(
        epochs=10,
        batch_size=32,
        optimizer="adamw",
        learning_rate=3e-4,
        lr_schedule="cosine",
        weight_decay=1e-5,
        label_smoothing=0.1,
        augment=True,
        precise_batch_norm=True,  # from scratch on 100-1,000 images it otherwise predicts one class (README)
    ),
    paper="Tan & Le 2019; EfficientNet-Lite (TF TPU repo 2020)",
    pretrained_recipe={True: IMAGENET_FINE_TUNING, "imagenet": IMAGENET_FINE_TUNING},
)
def efficientnet_lite0(num_classes=1000, input_shape=(224, 224, 3), dropout=0.2, freeze_batch_norm=False):
    """EfficientNet-Lite0 (4.7M parameters at 1000 classes): raw 0-255 RGB pixels in, `(x - 127) / 128` inside.

    `freeze_batch_norm=True` keeps every batch norm in inference mode with its statistics and
    scale fixed, as fine-tuning a pretrained network on a few images wants.
    """
    inputs, x = pixel_input(input_shape, offset=-127.0 / 128.0, scale=1.0 / 128.0)
    if input_shape[-1] == 1:
        x = keras.layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = _conv(x, STEM, 3, 2, "stem")
    index = 0
    for expand, kernel, stride, filters, repeats in LITE0_STAGES:
        for repeat in range(repeats):
            x = _block(x, expand, kernel, stride if repeat == 0 else 1, filters, f"block{index}")
            index += 1
    x = _conv(x, HEAD, 1, 1, "head")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    model = keras.Model(inputs, outputs, name="efficientnet_lite0")
    if freeze_batch_norm:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return model
