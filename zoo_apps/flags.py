"""Flags shared by the training apps, and how unset ones fall back to the recipe."""

import sys

from absl import app, flags

import export
import zoo
from zoo_apps import distribute

RECIPE_FLAGS = (
    "epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule",
    "weight_decay", "label_smoothing", "augment",
)
# --export value -> (export_run format, TFLite quantization or None).
EXPORTS = {
    "saved_model": ("saved_model", None),
    **{f"tflite_{flavour}": ("tflite", quantize) for quantize, flavour in export.convert.FLAVOURS.items()},
}


def define_training_flags(default_model, default_dataset, dataset_help):
    """Defines the flags every training app has."""
    flags.DEFINE_string("model", default_model, "Registered model name (see --list_models).")
    flags.DEFINE_string("dataset", default_dataset, dataset_help)
    flags.DEFINE_string("data_dir", None, "tfds data directory (datasets prepared offline).")
    flags.DEFINE_string(
        "model_dir", None, "Where the run writes everything; default runs/<model>_<dataset>. "
        "Re-running the same command there resumes it."
    )
    flags.DEFINE_integer("seed", 0, "Seed for the data split, shuffling, init and augmentation.", lower_bound=0)
    flags.DEFINE_boolean("list_models", False, "Print the registered models and exit.")
    flags.DEFINE_string(
        "pretrained", None,
        "Start from trained weights instead of random ones: `default` (or `true`) for the model's "
        "default pretrained entry, an entry name (zoo.pretrained.list_pretrained()), or a finished "
        "run's --model_dir or a .keras file. Another class count keeps the backbone and trains a "
        "fresh logits head. Text models: a run folder of the same model only; its vocabulary is kept.",
    )
    flags.DEFINE_list(
        "export", [],
        f"After training, export and verify the run into --model_dir/export/ and add the sizes and "
        f"latencies to MODEL_CARD.md: any of {', '.join(EXPORTS)}, or all. Also works on a finished run.",
    )
    flags.register_validator(
        "export", lambda values: set(values) <= {*EXPORTS, "all"},
        f"use any of {', '.join(EXPORTS)}, or all",
    )
    # Recipe flags: None means "the model's registered recipe".
    flags.DEFINE_integer("epochs", None, "Training epochs.", lower_bound=1)
    flags.DEFINE_integer("batch_size", None, "Examples per batch.", lower_bound=1)
    flags.DEFINE_enum("optimizer", None, ["sgd", "adam", "adamw"], "Optimizer (sgd uses Nesterov momentum 0.9).")
    flags.DEFINE_float("learning_rate", None, "Peak learning rate.", lower_bound=0.0)
    flags.DEFINE_enum(
        "lr_schedule", None, ["constant", "cosine"],
        "Learning-rate schedule; cosine warms up for one epoch, then decays to zero.",
    )
    flags.DEFINE_float("weight_decay", None, "Decoupled weight decay (0 for none).", lower_bound=0.0)
    flags.DEFINE_float("label_smoothing", None, "Label smoothing in [0, 1).", lower_bound=0.0, upper_bound=0.99)
    flags.DEFINE_boolean("augment", None, "Random rotation, zoom and shift (flips only where labels allow).")
    # Where to train (see zoo_apps/distribute.py).
    flags.DEFINE_enum(
        "strategy", "default", list(distribute.STRATEGIES),
        "default (one device), mirrored (all local GPUs), multi_worker (cluster from "
        "TF_CONFIG; see scripts/launch_local_cluster.py) or tpu (needs --tpu).",
    )
    flags.DEFINE_string("tpu", None, "TPU name or address for --strategy=tpu.")
    flags.DEFINE_boolean(
        "mixed_precision", False,
        "Compute in float16 (GPU) or bfloat16 (CPU/TPU); weights and logits stay float32.",
    )


def resolve_recipe(model_name):
    """Returns the model's registered recipe overridden by the flags that were set."""
    recipe = zoo.model_info(model_name)["recipe"]
    for name in RECIPE_FLAGS:
        if flags.FLAGS[name].value is not None:
            recipe[name] = flags.FLAGS[name].value
    return recipe


def pretrained():
    """--pretrained as `zoo.create_model` takes it: None, True (the model's default entry),
    an entry name or a path."""
    value = flags.FLAGS.pretrained or None
    return True if value and value.lower() in ("default", "true") else value


def export_choices():
    """`(formats, quantizations)` for `export.export_run` from --export; None when it is empty."""
    values = flags.FLAGS.export
    if not values:
        return None
    chosen = [EXPORTS[value] for value in (EXPORTS if "all" in values else values)]
    quantizations = [quantize for _, quantize in chosen if quantize]
    formats = [name for name in export.FORMATS if name in {format_ for format_, _ in chosen}]
    # export_run wants at least one quantization; it uses them only with "tflite".
    return formats, quantizations or list(export.QUANTIZATIONS)


def _parse_flags_or_exit(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _exit_with_error(f"{error} (see --help)")


def _exit_with_error(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def run(main):
    """Runs an absl `main`; bad flags and `zoo.ZooError` end in one line and exit 2."""

    def guarded_main(argv):
        if len(argv) > 1:
            _exit_with_error(f"unexpected arguments {argv[1:]}: all options are --flags.")
        try:
            main(argv)
        except zoo.ZooError as error:
            _exit_with_error(str(error))

    app.run(guarded_main, flags_parser=_parse_flags_or_exit)
