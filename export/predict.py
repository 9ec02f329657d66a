"""Classifies image files, or texts, with an exported TFLite model.

    python -m export.predict --model=runs/cnn_mnist_5k/export/model_int8.tflite digit.png
    python -m export.predict --model=runs/textcnn_lines_reviews/export/model_int8.tflite "A gem." "Dull."

Images (PNG, JPEG, BMP, GIF) are decoded and resized as the folder datasets
are in training (`tf.io.decode_image`, bilinear `tf.image.resize`), to the
model's input size and channels. For a text model (the sidecar's task is
text_classification) each argument is one text, tokenized as in training.
"""

import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

from export.predictor import TEXT_TASK, Predictor
from zoo.errors import ZooError

flags.DEFINE_string("model", None, "An exported .tflite file (with its .json sidecar).")
flags.DEFINE_integer("top_k", 3, "Labels to print per image or text.", lower_bound=1)
FLAGS = flags.FLAGS


def load_image(path, input_shape):
    """Returns the image at `path` as float32 raw pixels of `input_shape` (height, width, channels)."""
    height, width, channels = input_shape
    try:
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as error:
        raise ZooError(f"Cannot read image {path!r}: {error.message.splitlines()[0]}") from None
    image = tf.cast(image, tf.float32)
    if image.shape[:2] != (height, width):
        image = tf.image.resize(image, (height, width))
    return np.asarray(image)


def main(argv):
    if not FLAGS.model or len(argv) < 2:
        raise ZooError("Usage: python -m export.predict --model=FILE.tflite IMAGE|TEXT [IMAGE|TEXT ...]")
    predictor = Predictor(FLAGS.model)
    if predictor.task == TEXT_TASK:
        inputs = argv[1:]
    else:
        inputs = np.stack([load_image(path, predictor.input_shape) for path in argv[1:]])
    for name, ranked in zip(argv[1:], predictor.predict(inputs, top_k=FLAGS.top_k)):
        print(f"{name}: " + ", ".join(f"{label} {score:.3f}" for label, score in ranked))


def _one_line_errors(argv):
    # zoo_apps.flags.run refuses positional arguments; this CLI takes image paths or texts.
    try:
        main(argv)
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def _parse_flags(argv):
    try:
        return FLAGS(argv)
    except flags.Error as error:
        print(f"error: {error} (see --help)", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    app.run(_one_line_errors, flags_parser=_parse_flags)
