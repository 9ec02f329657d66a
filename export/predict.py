"""Runs an exported TFLite model on image files or texts and prints its answers.

    python -m export.predict --model=runs/cnn_mnist_5k/export/model_int8.tflite digit.png
    python -m export.predict --model=runs/textcnn_mr/export/model_int8.tflite "A gem." "Dull."

The file's task reads the arguments: images (PNG, JPEG, BMP, GIF) are decoded and resized
as the folder datasets are in training (`tf.io.decode_image`, bilinear `tf.image.resize`), to
the model's input size and channels; for a text model each argument is one text, tokenized
as in training. A detector prints its boxes (pixels of the model's input size) and writes each image
with them drawn, `NAME_boxes.png`, beside it (or into --draw_dir).
"""

import os

from absl import flags

from export.predictor import Predictor
from zoo.cli import run_cli
from zoo.errors import ZooError


def define_flags(flag_values):
    flags.DEFINE_string("model", None, "An exported .tflite file (with its .json sidecar).", flag_values=flag_values)
    flags.DEFINE_string(
        "draw_dir",
        None,
        "Where detectors write each image with its boxes drawn (default: beside it).",
        flag_values=flag_values,
    )
    flags.DEFINE_integer("top_k", 3, "Labels to print per input.", lower_bound=1, flag_values=flag_values)


def main(flag_values, args):
    if not flag_values.model or not args:
        raise ZooError("Usage: python -m export.predict --model=FILE.tflite IMAGE|TEXT [IMAGE|TEXT ...]")
    predictor = Predictor(flag_values.model)
    # The file's input side reads the arguments (image files decoded as in training, texts as they are, ...);
    # its head says how to print each answer.
    inputs, options = predictor.task.read_inputs(predictor, args)
    for name, answer in zip(args, predictor.predict(inputs, top_k=flag_values.top_k, **options)):
        long_text = len(name) > 80 and not os.path.exists(name)  # file paths are echoed whole
        shown = f"{name[:60]}... ({len(name):,} characters)" if long_text else name
        print(f"{shown}: {predictor.task.format_answer(answer)}")
        draw = getattr(predictor.task.head, "draw_answer", None)  # heads whose answers are drawn (boxes)
        drawn = draw and draw(name, answer, predictor.input_shape, flag_values.draw_dir)
        if drawn:
            print(f"wrote {drawn}")


def cli(argv=None):
    return run_cli(main, define_flags, argv, doc=__doc__, program="python -m export.predict", positional=True)


if __name__ == "__main__":
    cli()
