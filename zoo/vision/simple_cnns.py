"""Small classic CNNs for digits and tiny images.

All return class logits from raw 0-255 pixels.
"""

import keras

from zoo.registry import register_model
from zoo.vision.stem import pixel_input

_DIGITS = (28, 28, 1)
# Recipes measured on mnist_5k (see README): augmentation and a cosine schedule
# matter more than the architecture at this data size.
_SMALL_CNN_RECIPE = dict(
    epochs=60,
    batch_size=64,
    optimizer="adamw",
    learning_rate=3e-3,
    lr_schedule="cosine",
    weight_decay=5e-4,
    label_smoothing=0.1,
    augment=True,
)
# The default command's: 40 epochs of 128 (keras-io's batch size) take a third of the steps of 60 of 64,
# whose fixed costs dominate on a CPU at this size, for the same accuracy on mnist_5k (README, "Measured results").
# 32 steps a call (an epoch of mnist_5k): a tenth less training time, the same accuracy (README).
_CNN_RECIPE = dict(_SMALL_CNN_RECIPE, epochs=40, batch_size=128, steps_per_execution=32)


@register_model(
    task="image_classification",
    input_shape=_DIGITS,
    recipe=_CNN_RECIPE,
    paper="keras-io mnist_convnet / TensorFlow 'Deep MNIST for experts'",
    min_input_size=4,
)
def cnn(num_classes=10, input_shape=_DIGITS):
    """The classic small MNIST network: Conv(32) -> MaxPool -> Dense(64) -> logits."""
    inputs, x = pixel_input(input_shape, min_size=4)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="fc")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="cnn")


@register_model(
    task="image_classification",
    input_shape=_DIGITS,
    recipe=_SMALL_CNN_RECIPE,
    paper="Chollet, keras-io 'Simple MNIST convnet' (2015)",
    min_input_size=10,
)
def convnet(num_classes=10, input_shape=_DIGITS, dropout=0.5):
    """Two conv blocks, Conv(32) and Conv(64) with pooling, then Dense(128) -> logits."""
    inputs, x = pixel_input(input_shape, min_size=10)
    for i, filters in enumerate((32, 64), start=1):
        x = keras.layers.Conv2D(filters, 3, activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(128, activation="relu", name="fc")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="convnet")


@register_model(
    task="image_classification",
    input_shape=_DIGITS,
    recipe=_SMALL_CNN_RECIPE,
    paper="LeCun et al. 1998, 'Gradient-based learning applied to document recognition'",
    min_input_size=16,
)
def lenet5(num_classes=10, input_shape=_DIGITS):
    """LeNet-5 as in the CIFAR-10 tutorials: conv 6@5x5, conv 16@5x5, fc 120, 84."""
    inputs, x = pixel_input(input_shape, min_size=16)
    for i, filters in enumerate((6, 16), start=1):
        x = keras.layers.Conv2D(filters, 5, activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(120, activation="relu", name="fc1")(x)
    x = keras.layers.Dense(84, activation="relu", name="fc2")(x)
    outputs = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="lenet5")
