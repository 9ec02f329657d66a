"""Runs an exported TFLite model on image files or texts and prints its answers.

    python -m export.predict --model=runs/cnn_mnist_5k/export/model_int8.tflite digit.png
    python -m export.predict --model=runs/textcnn_mr/export/model_int8.tflite "A gem." "Dull."

Images (PNG, JPEG, BMP, GIF) are decoded and resized as the folder datasets are in
training (`tf.io.decode_image`, bilinear `tf.image.resize`), to the model's input
size and channels. For a text model each argument is one text, tokenized as in training.
"""

import pathlib

import numpy as np
from absl import flags

from export.predictor import Predictor
from zoo.cli import run_cli
from zoo.errors import ZooError


def define_flags(flag_values):
    flags.DEFINE_string("model", None, "An exported .tflite file (with its .json sidecar).", flag_values=flag_values)
    flags.DEFINE_integer("top_k", 3, "Labels to print per input.", lower_bound=1, flag_values=flag_values)


def load_image(path, input_shape):
    """Returns the image at `path` as float32 raw pixels of `input_shape` (height, width, channels)."""
    import tensorflow as tf

    kinds = "PNG, JPEG, BMP or GIF"
    if pathlib.Path(path).is_dir():
        raise ZooError(f"{path!r} is a folder, not an image: pass image files ({kinds}), e.g. {path}/*.png.")
    if not pathlib.Path(path).is_file():
        raise ZooError(f"{path!r} does not exist: pass image files ({kinds}).")
    height, width, channels = input_shape
    try:
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
    except tf.errors.OpError:
        raise ZooError(f"{path!r} is not an image that can be decoded: pass image files ({kinds}).") from None
    image = tf.cast(image, tf.float32)
    if image.shape[:2] != (height, width):
        image = tf.image.resize(image, (height, width))
    return np.asarray(image)


def main(flag_values, args):
    if not flag_values.model or not args:
        raise ZooError("Usage: python -m export.predict --model=FILE.tflite IMAGE|TEXT [IMAGE|TEXT ...]")
    predictor = Predictor(flag_values.model)
    if predictor.tokenizer:
        inputs, options = args, {}
    else:  # decoded files hold 0-255 pixels, even a dark image whose values all lie within 0-1
        inputs, options = (
            np.stack([load_image(path, predictor.input_shape) for path in args]),
            dict(allow_unit_range=True),
        )
    for name, ranked in zip(args, predictor.predict(inputs, top_k=flag_values.top_k, **options)):
        print(f"{name}: " + ", ".join(f"{label} {score:.3f}" for label, score in ranked))


def cli(argv=None):
    return run_cli(main, define_flags, argv, doc=__doc__, program="python -m export.predict", positional=True)


if __name__ == "__main__":
    cli()
