"""MobileNetV2 for phones, reusing `keras.applications`.

Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks".
"""

import keras

from zoo.registry import register_model
from zoo.vision.stem import pixel_input

_MIN_SIZE = 32


@register_model(
    task="image_classification",
    input_shape=(224, 224, 3),
    recipe=dict(
        epochs=30,
        batch_size=64,
        optimizer="adamw",
        learning_rate=2e-3,
        lr_schedule="cosine",
        weight_decay=1e-4,
        label_smoothing=0.1,
        augment=True,
    ),
    paper="Sandler et al. 2018, 'MobileNetV2: Inverted Residuals and Linear Bottlenecks'",
)
def mobilenet_v2(num_classes=10, input_shape=(224, 224, 3), alpha=1.0, dropout=0.2, bn_momentum=0.9):
    """MobileNetV2 with width multiplier `alpha`; images below 32 pixels are upsampled."""
    inputs, x = pixel_input(input_shape, offset=-1.0, scale=1.0 / 127.5)
    height, width, channels = input_shape
    if min(height, width) < _MIN_SIZE:
        factor = -(-_MIN_SIZE // min(height, width))
        height, width = height * factor, width * factor
        x = keras.layers.Resizing(height, width, name="upsample")(x)
    backbone = keras.applications.MobileNetV2(
        input_shape=(height, width, channels),
        alpha=alpha,
        include_top=False,
        weights=None,
        pooling="avg",
    )
    # keras.applications uses momentum 0.999: its moving statistics need thousands of
    # steps to forget their initial values, and on a few thousand images inference
    # ran on unsettled ones (10% validation accuracy); 0.9 is PyTorch's and timm's.
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = bn_momentum
    x = backbone(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")
