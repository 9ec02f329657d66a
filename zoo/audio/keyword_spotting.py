"""Keyword-spotting models on raw 16 kHz waveforms (the log-mel front end is inside: `zoo.audio.frontend`)."""

import keras

from zoo.audio.frontend import BATCH_NORM_MOMENTUM, waveform_input
from zoo.registry import register_model

_ONE_SECOND = (16_000,)
_KWS_RECIPE = dict(
    epochs=20,  # ds_cnn: validation (unheard voices) 0.98 after 17 epochs, seed 0
    batch_size=64,
    optimizer="adamw",
    learning_rate=3e-3,
    lr_schedule="cosine",
    weight_decay=1e-3,
    label_smoothing=0.1,
    augment=True,  # background noise and time shift
)


def _conv_bn(x, filters, kernel, strides, name, depthwise=False):
    if depthwise:
        x = keras.layers.DepthwiseConv2D(kernel, strides, padding="same", use_bias=False, name=name)(x)
    else:
        x = keras.layers.Conv2D(filters, kernel, strides, padding="same", use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


@register_model(
    task="audio_classification",
    input_shape=_ONE_SECOND,
    recipe=_KWS_RECIPE,
    paper="Zhang et al. 2017, 'Hello Edge: Keyword Spotting on Microcontrollers' (DS-CNN)",
)
def ds_cnn(num_classes=12, input_shape=_ONE_SECOND, filters=64, blocks=4, dropout=0.2):
    """DS-CNN-S: 10 MFCCs, a 10x4 conv, depthwise-separable blocks (3x3 depthwise, 1x1 pointwise), pool -> logits."""
    inputs, x = waveform_input(input_shape, num_coefficients=10)
    x = _conv_bn(x, filters, (10, 4), (2, 2), "conv")
    for index in range(1, blocks + 1):
        x = _conv_bn(x, filters, 3, 1, f"block{index}_depthwise", depthwise=True)
        x = _conv_bn(x, filters, 1, 1, f"block{index}_pointwise")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="ds_cnn")


@register_model(
    task="audio_classification",
    input_shape=_ONE_SECOND,
    recipe=_KWS_RECIPE,
    paper="Sainath & Parada 2015, 'Convolutional Neural Networks for Small-footprint Keyword Spotting' (small)",
)
def kws_cnn(num_classes=12, input_shape=_ONE_SECOND, dropout=0.2):
    """A small CNN: three 3x3 conv blocks (16, 32, 64) with pooling, global average pool -> logits."""
    inputs, x = waveform_input(input_shape)
    for index, filters in enumerate((16, 32, 64), start=1):
        x = _conv_bn(x, filters, 3, 1, f"conv{index}")
        if index < 3:
            x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="kws_cnn")
