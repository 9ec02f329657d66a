"""The raw-pixel input every vision model starts with."""

import keras

from zoo.errors import ZooError


def pixel_input(input_shape, min_size=1, offset=0.0, scale=1.0 / 255):
    """Returns `(inputs, x)`: a raw-pixel (0-255) input and its rescaled tensor.

    Rescaling lives inside the model, so Python, SavedModel and TFLite callers
    all feed the same raw pixels.

    Args:
        input_shape: `(height, width, channels)` with 1 or 3 channels.
        min_size: smallest height/width the architecture accepts.
        offset, scale: rescaling, `x = pixels * scale + offset`.
    """
    if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
        raise ZooError(
            "Vision models take (height, width, channels) with 1 or 3 channels. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    if min(input_shape[:2]) < min_size:
        raise ZooError(
            f"This model needs images of at least {min_size}x{min_size} pixels. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = keras.layers.Rescaling(scale, offset=offset, name="rescale")(inputs)
    return inputs, x
