"""`centernet`: a small single-stage detector, objects as points (Zhou et al. 2019, arXiv:1904.07850).

A 4-stage convolutional encoder (strides 2-16) and a top-down path with lateral additions back to stride 4
(an FPN-style decoder, Lin et al. 2017), then two heads: class heatmaps and box geometry (width, height,
centre offset), as `zoo.detection.points` lays them out. Raw pixels 0-255 in, rescaled inside.
"""

import math

import keras

from zoo.registry import register_model
from zoo.vision.segmentation import check_divisible

RECIPE = dict(
    epochs=30,
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
    x = features[-1]
    for stage, filters in ((2, 3 * width), (1, 2 * width)):  # up to stride 8, then 4, adding the encoder's
        x = keras.layers.UpSampling2D(2, name=f"up{stage + 1}")(x)
        x = keras.layers.Conv2D(filters, 1, name=f"reduce{stage + 1}")(x)
        lateral = keras.layers.Conv2D(filters, 1, name=f"lateral{stage + 1}")(features[stage])
        x = _conv(keras.layers.Add(name=f"merge{stage + 1}")([x, lateral]), filters, f"top_down{stage + 1}")
    heatmap = _head(x, num_classes, "heatmap", bias=-math.log((1 - PRIOR) / PRIOR))
    geometry = _head(x, 4, "geometry")
    centers = keras.layers.Concatenate(name="centers", dtype="float32")([heatmap, geometry])
    return keras.Model(pixels, centers, name="centernet")
