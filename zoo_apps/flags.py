"""Flags shared by the training apps, and how unset ones fall back to the recipe."""

import sys

from absl import app, flags

import zoo
from zoo_apps import distribute

RECIPE_FLAGS = (
    "epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule",
    "weight_decay", "label_smoothing", "augment",
)


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
