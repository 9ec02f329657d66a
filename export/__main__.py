"""Exports a finished run to verified SavedModel and TFLite files in --model_dir/export/.

    python -m export --model_dir=runs/cnn_mnist_5k                 # all formats
    python -m export --model_dir=runs/cnn_mnist_5k --formats=int8,float16
    python -m export --model_dir=runs/textcnn_mr                   # text: TFLite takes token ids
"""

from absl import flags

from export.run import FORMATS, check_gate, export_run
from zoo.card import write_model_card
from zoo.cli import run_cli
from zoo.errors import ZooError


def define_flags(flag_values):
    flags.DEFINE_string(
        "model_dir", None, "A finished training run (model.keras, config.json).", flag_values=flag_values
    )
    flags.DEFINE_list(
        "formats", ["all"], f"Any of {', '.join(FORMATS)}, or all.", flag_values=flag_values
    )
    flags.DEFINE_string(
        "data_dir", None, "tfds data directory, for runs trained on a tfds dataset.", flag_values=flag_values
    )
    flags.DEFINE_boolean(
        "accept_failed", False, "Exit 0 even if a file fails the fidelity gate (it stays marked failed).",
        flag_values=flag_values,
    )


def main(flag_values, args):
    if not flag_values.model_dir:
        raise ZooError("Pass --model_dir=DIR, the folder of a finished training run.")
    report = export_run(flag_values.model_dir, flag_values.formats, data_dir=flag_values.data_dir)
    write_model_card(flag_values.model_dir)
    if not flag_values.accept_failed:
        check_gate(report)
    return report


def cli(argv=None):
    return run_cli(main, define_flags, argv, doc=__doc__, program="python -m export")


if __name__ == "__main__":
    cli()
