"""The app core: flags shared by every task's app, and one run of any task from them.

Each `zoo_apps/<task>.py` is a thin main: its task's name, its own flags and how
they become model and data options; everything else is here, in `experiment`
(the run folder) and in the task (`zoo.tasks`).
"""

import os

from absl import flags

import zoo
from export.run import FORMATS, checked_formats
from zoo.cli import run_cli
from zoo.recipes import LR_SCHEDULES, OPTIMIZERS, OPTIONAL_KEYS, RECIPE_KEYS, check_values, override
from zoo.registry import model_defaults
from zoo_apps import adversarial, distribute, experiment, phases


def task_models(task):
    """The registered models an app's task trains (the tabular app's: both tabular tasks' models)."""
    tasks = getattr(task, "model_tasks", None) or (task.name,)
    return sorted({model for name in tasks for model in zoo.list_models(task=name)})


def define_shared_flags(flag_values, task):
    """Defines the flags every training app has, with the task's defaults and catalog."""
    define = dict(flag_values=flag_values)
    models = ", ".join(task_models(task))
    flags.DEFINE_string("model", task.default_model, f"Registered model: {models}.", **define)
    flags.DEFINE_string("dataset", task.default_dataset, f"Dataset. {task.catalog_help()}.", **define)
    flags.DEFINE_string("data_dir", None, "tfds data directory (datasets prepared offline).", **define)
    flags.DEFINE_string(
        "model_dir",
        None,
        "Where the run writes everything; default runs/<model>_<dataset>. "
        "Re-running the same command there resumes it.",
        **define,
    )
    flags.DEFINE_integer(
        "seed", 0, "Seed of the data split, shuffling, init and augmentation.", lower_bound=0, **define
    )
    flags.DEFINE_boolean("list_models", False, "Print the task's registered models and exit.", **define)
    flags.DEFINE_string(
        "pretrained",
        None,
        "Start from trained weights: `default` for the model's default pretrained entry, an entry name "
        "(zoo.pretrained.list_pretrained()), or a finished run's --model_dir or a .keras file. Another "
        "class count keeps the backbone and trains a fresh head.",
        **define,
    )
    flags.DEFINE_list(
        "export",
        [],
        f"After training (also on a finished run), export and verify into --model_dir/export/: "
        f"any of {', '.join(FORMATS)}, or all.",
        **define,
    )
    _define_recipe_flags(define, task.recipe_keys)
    flags.DEFINE_enum(
        "strategy",
        "default",
        list(distribute.STRATEGIES),
        "default (one device), mirrored (all local GPUs), multi_worker (cluster from TF_CONFIG; see "
        "scripts/launch_local_cluster.py) or tpu (needs --tpu).",
        **define,
    )
    flags.DEFINE_string("tpu", None, "TPU name or address for --strategy=tpu.", **define)
    flags.DEFINE_boolean(
        "mixed_precision",
        False,
        "Compute in float16 (GPU) or bfloat16 (CPU/TPU); weights and outputs stay float32.",
        **define,
    )


def _define_recipe_flags(define, keys):
    """One flag per recipe key the task uses (`keys`); unset (None) means the model's registered recipe."""
    help_ = {key: f"{text} Default: the model's recipe." for key, text in {**RECIPE_KEYS, **OPTIONAL_KEYS}.items()}
    definitions = dict(
        epochs=lambda: flags.DEFINE_integer("epochs", None, help_["epochs"], lower_bound=1, **define),
        batch_size=lambda: flags.DEFINE_integer("batch_size", None, help_["batch_size"], lower_bound=1, **define),
        optimizer=lambda: flags.DEFINE_enum("optimizer", None, list(OPTIMIZERS), help_["optimizer"], **define),
        learning_rate=lambda: flags.DEFINE_float(
            "learning_rate", None, help_["learning_rate"], lower_bound=0.0, **define
        ),
        lr_schedule=lambda: flags.DEFINE_enum("lr_schedule", None, list(LR_SCHEDULES), help_["lr_schedule"], **define),
        weight_decay=lambda: flags.DEFINE_float("weight_decay", None, help_["weight_decay"], lower_bound=0.0, **define),
        label_smoothing=lambda: flags.DEFINE_float(
            "label_smoothing", None, help_["label_smoothing"], lower_bound=0.0, upper_bound=0.99, **define
        ),
        augment=lambda: flags.DEFINE_boolean("augment", None, help_["augment"], **define),
        head_epochs=lambda: flags.DEFINE_integer("head_epochs", None, help_["head_epochs"], lower_bound=0, **define),
        head_learning_rate=lambda: flags.DEFINE_float(
            "head_learning_rate", None, help_["head_learning_rate"], lower_bound=0.0, **define
        ),
        precise_batch_norm=lambda: flags.DEFINE_boolean(
            "precise_batch_norm", None, help_["precise_batch_norm"], **define
        ),
        steps_per_execution=lambda: flags.DEFINE_integer(
            "steps_per_execution", None, help_["steps_per_execution"], lower_bound=1, **define
        ),
    )
    for key in keys:
        definitions[key]()


def default_model_dir(model, dataset):
    """`runs/<model>_<dataset>`, with the dataset's `:` and `/` made `_`."""
    return os.path.join("runs", f"{model}_{dataset.replace(':', '_').replace('/', '_')}")


def _pretrained(value):
    """--pretrained as `zoo.create_model` takes it: None, True (the default entry), a name or a path."""
    return True if value and value.lower() in ("default", "true") else (value or None)


def _check_dataset(task, dataset):
    """Refuses a missing --dataset, and a `kind:` entry without its path (`folder:` would read the current folder)."""
    if dataset is None:
        raise zoo.ZooError(f"Pass --dataset. {task.catalog_help()}.")
    kind, colon, path = dataset.partition(":")
    if colon and not path.strip():
        entry = task.dataset_entry(dataset)
        example = entry.name if entry else f"{kind}:PATH"
        raise zoo.ZooError(f"--dataset={dataset} names no path: pass --dataset={example}.")


def train(task, flag_values, options):
    """Runs the training app of `task` with parsed `flag_values` and the task's model/data `options`.

    Returns the run's metrics (None for --list_models, and on workers other than the chief).
    """
    fv = flag_values
    if fv.list_models:
        print("\n".join(task_models(task)))
        return None
    # e.g. a BERT preset's recipe, or how to fine-tune from ImageNet
    options, model_recipe = model_defaults(fv.model, options, _pretrained(fv.pretrained))
    recipe = override(model_recipe, **{key: fv[key].value for key in task.recipe_keys})
    check_values(recipe)
    task.check(fv.model, options, recipe)
    adversarial.run_entry(fv)  # bad values fail before anything is written
    formats = checked_formats(fv.export) if fv.export else ()
    _check_dataset(task, fv.dataset)
    folder = experiment.claim_model_dir(fv.model_dir or default_model_dir(fv.model, fv.dataset))
    # Collective ops must be configured before TensorFlow runs anything.
    strategy = distribute.make_strategy(fv.strategy, fv.tpu)
    splits = task.load_data(fv.dataset, seed=fv.seed, data_dir=fv.data_dir, **options)
    task.check_data(fv.model, splits, recipe)
    run = dict(
        model=fv.model,
        task=task.name,
        dataset=fv.dataset,
        seed=fv.seed,
        options=options,
        pretrained=_pretrained(fv.pretrained),
        mixed_precision=distribute.set_mixed_precision(fv.mixed_precision),
        recipe=recipe,
        **adversarial.run_entry(fv),
    )
    experiment.make_deterministic(fv.seed)
    with strategy.scope():
        model = task.build_model(fv.model, splits, options, run["pretrained"])
        phases.check_head(model, recipe, fv.model)
        metrics = experiment.train_and_evaluate(task, model, splits, run, folder)
    if formats:
        experiment.export_and_describe(folder, formats, data_dir=fv.data_dir)
    return metrics


def run_app(task_name, define_task_flags, task_options, argv=None, doc=None):
    """Parses `argv` for the app of `task_name` and trains; bad input ends in one `error:` line, exit 2.

    Args:
        task_name: a registered task.
        define_task_flags: `define_task_flags(flag_values)` defines the app's own flags.
        task_options: `task_options(flag_values) -> dict` of model and data options (recorded in config.json).
        argv: arguments without the program name; default `sys.argv[1:]`.
        doc: the app's docstring, shown by --help.
    """
    task = zoo.get_task(task_name)

    def define_flags(flag_values):
        define_shared_flags(flag_values, task)
        define_task_flags(flag_values)

    return run_cli(
        lambda flag_values, args: train(task, flag_values, task_options(flag_values)),
        define_flags,
        argv,
        doc=doc,
        program=f"python -m zoo_apps.{task.app}",
    )
