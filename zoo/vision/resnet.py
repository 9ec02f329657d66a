"""ResNets with basic blocks.

He et al. 2016, "Deep Residual Learning for Image Recognition":
`resnet20`/`resnet56` are the paper's CIFAR networks (Section 4.2: a 3x3 stem and
three stages of 16/32/64 filters, n = 3 or 9 blocks each); `resnet18` is the
ImageNet ResNet-18 (64/128/256/512 filters, 2 blocks each). Shortcuts that change
shape are 1x1 projections (the paper's option B).
"""

import keras

from zoo.registry import register_model
from zoo.vision.stem import pixel_input

_RESNET_RECIPE = dict(
    epochs=30,
    batch_size=128,
    optimizer="sgd",
    learning_rate=0.1,
    lr_schedule="cosine",
    weight_decay=5e-4,
    label_smoothing=0.1,
    augment=True,
)
_PAPER = "He et al. 2016, 'Deep Residual Learning for Image Recognition'"


def _conv_bn(x, filters, kernel_size, strides, name, activation=True):
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def _basic_block(x, filters, strides, name):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_proj", activation=False)
    x = _conv_bn(x, filters, 3, strides, f"{name}_1")
    x = _conv_bn(x, filters, 3, 1, f"{name}_2", activation=False)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.ReLU(name=f"{name}_out")(x)


def _resnet(name, num_classes, input_shape, stage_filters, blocks_per_stage, small_stem):
    inputs, x = pixel_input(input_shape, min_size=8)
    if small_stem:
        x = _conv_bn(x, stage_filters[0], 3, 1, "stem")
    else:
        x = _conv_bn(x, stage_filters[0], 7, 2, "stem")
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, filters in enumerate(stage_filters):
        for block in range(blocks_per_stage):
            strides = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, filters, strides, f"stage{stage + 1}_block{block + 1}")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


@register_model(
    task="image_classification",
    input_shape=(32, 32, 3),
    recipe=_RESNET_RECIPE,
    paper=_PAPER,
    min_input_size=8,
)
def resnet20(num_classes=10, input_shape=(32, 32, 3)):
    """ResNet-20 for CIFAR-sized images (0.27M parameters)."""
    return _resnet("resnet20", num_classes, input_shape, (16, 32, 64), 3, True)


@register_model(
    task="image_classification",
    input_shape=(32, 32, 3),
    recipe=_RESNET_RECIPE,
    paper=_PAPER,
    min_input_size=8,
)
def resnet56(num_classes=10, input_shape=(32, 32, 3)):
    """ResNet-56 for CIFAR-sized images (0.86M parameters)."""
    return _resnet("resnet56", num_classes, input_shape, (16, 32, 64), 9, True)


@register_model(
    task="image_classification",
    input_shape=(224, 224, 3),
    recipe=_RESNET_RECIPE,
    paper=_PAPER,
    min_input_size=8,
)
def resnet18(num_classes=10, input_shape=(224, 224, 3), small_stem=None):
    """ResNet-18; below 64 pixels it uses a 3x3 stride-1 stem, as is usual on CIFAR."""
    if small_stem is None:
        small_stem = min(input_shape[:2]) < 64
    return _resnet("resnet18", num_classes, input_shape, (64, 128, 256, 512), 2, small_stem)
