"""Exports a trained run to verified SavedModel and TFLite files in --model_dir/export/.

    python -m export --model_dir=runs/cnn_mnist_5k
    python -m export --model_dir=runs/cnn_mnist_5k --formats=tflite --quantize=int8
    python -m export --model_dir=runs/textcnn_lines_reviews  # text: TFLite takes token ids
"""

from absl import flags

from export.convert import QUANTIZATIONS
from export.run import FORMATS, export_run
from zoo.errors import ZooError
from zoo_apps.flags import run

flags.DEFINE_string("model_dir", None, "A finished training run (holds model.keras and config.json).")
flags.DEFINE_list("formats", list(FORMATS), f"Any of {', '.join(FORMATS)}.")
flags.DEFINE_list(
    "quantize", list(QUANTIZATIONS),
    "TFLite flavours: none (float32), float16, dynamic (int8 weights), int8 (full integer).",
)
flags.DEFINE_string("data_dir", None, "tfds data directory, for runs trained on a tfds dataset.")
FLAGS = flags.FLAGS


def main(argv):
    if not FLAGS.model_dir:
        raise ZooError("Pass --model_dir=DIR, the folder of a finished training run.")
    export_run(FLAGS.model_dir, FLAGS.formats, FLAGS.quantize, data_dir=FLAGS.data_dir)


if __name__ == "__main__":
    run(main)
