"""Trains a model on a table (regression or classification) and writes the run to --model_dir; every
run also fits scikit-learn references on the same split and reports them beside it.

    python -m zoo_apps.tabular                                   # linear_regression on diabetes
    python -m zoo_apps.tabular --model=logistic_regression --dataset=breast_cancer
    python -m zoo_apps.tabular --model=mlp --dataset=csv:houses.csv --target=price --features=area,rooms,town
"""

from absl import flags

from zoo.datasets.tables import TASKS
from zoo_apps.core import run_app


def define_flags(flag_values):
    define = dict(flag_values=flag_values)
    flags.DEFINE_string("target", None, "The column to predict (csv: required; embedded tables: target).", **define)
    flags.DEFINE_list("features", None, "The columns to use as features; default all but the target.", **define)
    flags.DEFINE_enum(
        "task",
        None,
        list(TASKS),
        "Default: classification for a target of at most 20 distinct integer or text values, else regression.",
        **define,
    )


def options(flag_values):
    """The data options: which column to predict, from which columns, as which task."""
    chosen = dict(target=flag_values.target, features=flag_values.features, task=flag_values.task)
    return {name: value for name, value in chosen.items() if value is not None}


def main(argv=None):
    return run_app("tabular", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
