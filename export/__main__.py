"""Exports a finished run to verified SavedModel and TFLite files in --model_dir/export/, or
re-quantizes a model from elsewhere with calibration images from a folder.

    python -m export --model_dir=runs/cnn_mnist_5k                 # all formats
    python -m export --model_dir=runs/cnn_mnist_5k --formats=int8,float16
    python -m export --model_dir=runs/textcnn_mr                   # text: TFLite takes token ids
    python -m export --model=model.keras --calibration_images=photos/ --output_dir=out --formats=int8
"""

import pathlib

from absl import flags

from export.external import requantize
from export.run import FORMATS, check_gate, checked_formats, export_run
from zoo.card import write_model_card
from zoo.cli import run_cli
from zoo.errors import ZooError


def define_flags(flag_values):
    flags.DEFINE_string(
        "model_dir", None, "A finished training run (model.keras, config.json).", flag_values=flag_values
    )
    flags.DEFINE_list("formats", ["all"], f"Any of {', '.join(FORMATS)}, or all.", flag_values=flag_values)
    flags.DEFINE_string(
        "data_dir", None, "tfds data directory, for runs trained on a tfds dataset.", flag_values=flag_values
    )
    flags.DEFINE_string(
        "model",
        None,
        "A .keras file or SavedModel folder from elsewhere (instead of --model_dir).",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "calibration_images",
        None,
        "With --model: a folder of images to calibrate and check on.",
        flag_values=flag_values,
    )
    flags.DEFINE_string("output_dir", None, "With --model: where the TFLite files go.", flag_values=flag_values)
    flags.DEFINE_string(
        "labels", None, "With --model: a labels.txt (one class per line, in output order).", flag_values=flag_values
    )
    flags.DEFINE_boolean(
        "accept_failed",
        False,
        "Exit 0 even if a file fails the fidelity gate (it stays marked failed).",
        flag_values=flag_values,
    )


def _read_labels(path):
    """The class names of a labels file, one per line (blank lines skipped)."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ZooError(f"Cannot read --labels {path} ({reason}): pass a UTF-8 text file, one class per line.") from None
    return [line.strip() for line in text.split("\n") if line.strip()]


def _requantize(fv):
    if not (fv.calibration_images and fv.output_dir):
        raise ZooError("--model needs --calibration_images=DIR and --output_dir=DIR.")
    labels = _read_labels(fv.labels) if fv.labels else None
    flavours = [name for name in checked_formats(fv.formats) if name != "saved_model"]
    rows = requantize(fv.model, fv.calibration_images, fv.output_dir, flavours, labels)
    failed = [row["file"] for row in rows if not row["passed"]]
    if failed and not fv.accept_failed:
        raise ZooError(
            f"{', '.join(failed)} agree with the original model on under 99% of the images: "
            "calibrate on more typical images, ship another flavour, or pass --accept_failed."
        )
    return rows


def main(flag_values, args):
    if flag_values.model:
        return _requantize(flag_values)
    if not flag_values.model_dir:
        raise ZooError("Pass --model_dir=DIR (a finished training run), or --model=FILE with --calibration_images.")
    report = export_run(flag_values.model_dir, flag_values.formats, data_dir=flag_values.data_dir)
    write_model_card(flag_values.model_dir)
    if not flag_values.accept_failed:
        check_gate(report)
    return report


def cli(argv=None):
    return run_cli(main, define_flags, argv, doc=__doc__, program="python -m export")


if __name__ == "__main__":
    cli()
