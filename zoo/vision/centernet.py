"""`centernet` and `centernet_mobilenet_v2`: small single-stage detectors, objects as points (Zhou et al. 2019).

A 4-stage convolutional encoder (strides 2-16) and a top-down path with lateral additions back to stride 4
(an FPN-style decoder, Lin et al. 2017), then two heads: class heatmaps and box geometry (width, height,
centre offset), as `zoo.detection.points` lays them out. Raw pixels 0-255 in, rescaled inside.
`centernet_mobilenet_v2` swaps the encoder for keras.applications' MobileNetV2 (Sandler et al. 2018) from random
weights (ImageNet weights cannot be downloaded here) and keeps the top-down path and the maps.
"""

import math

import keras

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.vision.segmentation import check_divisible
from zoo.vision.stem import pixel_input

RECIPE = dict(
    epochs=6,  # on mnist_scenes' 15,000 training scenes: 2,814 steps; your own, smaller data wants more epochs
    batch_size=32,
    optimizer="adam",
    learning_rate=2e-3,
    lr_schedule="cosine",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)
PRIOR = 0.1  # initial heatmap probability (RetinaNet's prior-probability bias; CenterNet uses -2.19)


def _conv(x, filters, name, strides=1):
    x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _top_down(features, width):
    """An FPN-style decoder: from the stride-16 features up to stride 8, then 4, adding each stride's features
    (`features`: {stride: tensor}) through a 1x1 lateral convolution."""
    x = features[16]
    for stage, filters in ((2, 3 * width), (1, 2 * width)):
        x = keras.layers.UpSampling2D(2, name=f"up{stage + 1}")(x)
        x = keras.layers.Conv2D(filters, 1, name=f"reduce{stage + 1}")(x)
        lateral = keras.layers.Conv2D(filters, 1, name=f"lateral{stage + 1}")(features[2 ** (stage + 1)])
        x = _conv(keras.layers.Add(name=f"merge{stage + 1}")([x, lateral]), filters, f"top_down{stage + 1}")
    return x


def _centre_maps(x, num_classes):
    """The output at stride 4: class heatmap logits and box geometry (`zoo.detection.points`' layout)."""
    heatmap = _head(x, num_classes, "heatmap", bias=-math.log((1 - PRIOR) / PRIOR))
    geometry = _head(x, 4, "geometry")
    return keras.layers.Concatenate(name="centers", dtype="float32")([heatmap, geometry])


def _head(x, outputs, name, bias=0.0):
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name=f"{name}_hidden")(x)
    init = keras.initializers.Constant(bias)
    return keras.layers.Conv2D(outputs, 1, bias_initializer=init, dtype="float32", name=name)(x)


@register_model(
    task="object_detection",
    input_shape=(64, 64, 1),
    recipe=RECIPE,
    paper="Zhou, Wang & Krähenbühl 2019, Objects as Points (CenterNet), arXiv:1904.07850",
    min_input_size=32,
)
def centernet(num_classes=10, input_shape=(64, 64, 1), width=32):
    """CenterNet-style detector: stride-4 class heatmaps + box sizes and offsets, ~0.6M parameters."""
    check_divisible(input_shape, 16, "centernet")  # 4 stride-2 stages, added back at strides 8 and 4
    pixels = keras.Input(input_shape, name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(pixels)
    features = []
    for stage, filters in enumerate((width, 2 * width, 4 * width, 4 * width)):
        x = _conv(x, filters, f"stage{stage + 1}_down", strides=2)
        x = _conv(x, filters, f"stage{stage + 1}_block")
        features.append(x)
    x = _top_down({4: features[1], 8: features[2], 16: features[3]}, width)
    return keras.Model(pixels, _centre_maps(x, num_classes), name="centernet")


# MobileNetV2's blocks whose outputs have strides 4, 8 and 16 (the last: block 13's expansion, where SSDLite also
# taps it, as it carries 6x the channels of block 12's output).
MOBILENET_FEATURES = {4: "block_2_add", 8: "block_5_add", 16: "block_13_expand_relu"}


@register_model(
    task="object_detection",
    input_shape=(64, 64, 1),
    recipe=RECIPE,
    paper="Sandler et al. 2018, MobileNetV2: Inverted Residuals and Linear Bottlenecks, arXiv:1801.04381; "
    "Zhou, Wang & Krähenbühl 2019, Objects as Points (CenterNet), arXiv:1904.07850",
    min_input_size=32,
)
def centernet_mobilenet_v2(num_classes=10, input_shape=(64, 64, 1), alpha=0.5, width=32, bn_momentum=0.9):
    """CenterNet on a MobileNetV2 backbone (random init): stride 4/8/16 features, centernet's top-down path and maps."""
    check_divisible(input_shape, 16, "centernet_mobilenet_v2")  # features at stride 16, added back at 8 and 4
    if min(input_shape[:2]) < 32:
        raise ZooError(
            f"centernet_mobilenet_v2 needs images of at least 32x32 pixels. Received: input_shape={tuple(input_shape)}"
        )
    pixels, x = pixel_input(input_shape, offset=-1.0, scale=1.0 / 127.5)  # MobileNetV2 takes [-1, 1]
    if input_shape[-1] == 1:  # gray as RGB, the input ImageNet weights would expect
        x = keras.layers.Concatenate(name="gray_to_rgb")([x, x, x])
    backbone = keras.applications.MobileNetV2(
        input_shape=(*input_shape[:2], 3), alpha=alpha, include_top=False, weights=None
    )
    for layer in backbone.layers:  # as zoo's mobilenet_v2: keras.applications' 0.999 settles too slowly
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = bn_momentum
    strides = keras.Model(
        backbone.input,
        [backbone.get_layer(name).output for name in MOBILENET_FEATURES.values()],
        name="mobilenet_v2_features",
    )
    features = dict(zip(MOBILENET_FEATURES, strides(x)))
    x = _top_down(features, width)
    return keras.Model(pixels, _centre_maps(x, num_classes), name="centernet_mobilenet_v2")
