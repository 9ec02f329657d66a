"""Tabular datasets: scikit-learn's bundled tables (offline) and CSV files.

Examples are `(features, label)` with `features = {"numeric": float32 (n_numeric,),
"categorical": int32 (n_categorical,)}`; a key is left out when the table has no
such column (zero-width tensors convert badly to TFLite). Missing numbers stay
NaN (the models impute the training mean themselves); categories are indices
into the schema's vocabulary, 0 meaning missing or unseen in the training split.
Labels are int64 class indices (classification) or float32 values (regression).
"""

import numpy as np
import tensorflow as tf

from zoo.datasets.csv_table import Column, check_names, read_csv_table
from zoo.datasets.splits import Splits, digest_of, shuffled_split_indices
from zoo.errors import ZooError

REGRESSION, CLASSIFICATION = TASKS = ("tabular_regression", "tabular_classification")
# A target with at most this many distinct integer values is taken as class labels.
MAX_CLASSES = 20
# --task=tabular_classification on more distinct values than that needs this many rows per value on average.
MIN_EXAMPLES_PER_CLASS = 5
MISSING_CATEGORY = "<missing>"
SPLIT_NAMES = ("train", "validation", "test")
EMBEDDED_TABLES = {
    "diabetes": "scikit-learn's diabetes progression (442 patients, 10 raw unscaled numbers; regression)",
    "breast_cancer": "scikit-learn's Wisconsin breast cancer (569 tumours, 30 numbers; malignant/benign)",
    "wine": "scikit-learn's wine recognition (178 wines, 13 numbers; 3 cultivars)",
    "iris": "scikit-learn's iris (150 flowers, 4 numbers; 3 species)",
}


def _embedded_columns(name):
    """All columns of a scikit-learn table, the target last and named "target"."""
    from sklearn import datasets

    if name == "diabetes":
        bunch = datasets.load_diabetes(scaled=False)
        target = Column("target", "numeric", bunch.target.astype(np.float64))
    else:
        bunch = getattr(datasets, f"load_{name}")()
        target = Column("target", "categorical", np.asarray(bunch.target_names, object)[bunch.target])
    numbers = bunch.data.astype(np.float64)
    columns = [Column(str(column), "numeric", numbers[:, i]) for i, column in enumerate(bunch.feature_names)]
    return columns + [target]


def _embedded_table(name, target, features):
    columns = {column.name: column for column in _embedded_columns(name)}
    target = target or "target"
    check_names([target], list(columns), "target")
    names = [column for column in columns if column != target] if features is None else list(features)
    check_names(names, list(columns), "feature")
    if target in names:
        raise ZooError(f"Column {target!r} is the target: leave it out of `features`.")
    return [columns[column] for column in names], columns[target]


def _number_name(value):
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_not_continuous(target, distinct):
    """Refuses classes from a target that looks continuous: over `MAX_CLASSES` distinct values that are not
    all integers, or fewer than `MIN_EXAMPLES_PER_CLASS` rows per value on average."""
    integers = np.all(distinct == np.round(distinct))
    if len(distinct) > MAX_CLASSES and (not integers or len(target.values) < MIN_EXAMPLES_PER_CLASS * len(distinct)):
        raise ZooError(
            f"Target column {target.name!r} looks continuous ({len(distinct)} distinct values in "
            f"{len(target.values)} rows): use --task=tabular_regression, or bin it into classes first."
        )


def _labels(target, task):
    """Returns `(task, labels, class_names)`: the task inferred unless given."""
    if task not in (None, *TASKS):
        raise ZooError(f"Unknown tabular task {task!r}: use {' or '.join(TASKS)}.")
    if target.missing:
        raise ZooError(
            f"Target column {target.name!r} has {target.missing} missing values: drop or fill those rows.",
        )
    if target.kind == "categorical":
        if task == REGRESSION:
            raise ZooError(f"Target column {target.name!r} holds text, not numbers: it cannot be regressed.")
        class_names = sorted(set(target.values))
        index = {name: i for i, name in enumerate(class_names)}
        labels = np.array([index[value] for value in target.values], np.int64)
    else:
        distinct = np.unique(target.values)
        few_integers = len(distinct) <= MAX_CLASSES and np.all(distinct == np.round(distinct))
        if task == REGRESSION or (task is None and not few_integers):
            return REGRESSION, target.values.astype(np.float32), []
        _check_not_continuous(target, distinct)
        class_names = [_number_name(value) for value in distinct]
        labels = np.searchsorted(distinct, target.values).astype(np.int64)
    if len(class_names) < 2:
        raise ZooError(f"Target column {target.name!r} has 1 value {class_names}: nothing to classify.")
    return CLASSIFICATION, labels, class_names


def _numeric_entry(column, train):
    values = column.values[train]
    if np.isnan(values).all():
        raise ZooError(f"Column {column.name!r} has no values in the training split: leave it out.")
    return dict(
        name=column.name,
        kind=column.kind,
        mean=float(np.nanmean(values)),
        variance=float(np.nanvar(values)),
        missing=column.missing,
    )


def _categorical_entry(column, train):
    values = {value for value in column.values[train] if value is not None}
    return dict(name=column.name, vocabulary=[MISSING_CATEGORY, *sorted(values)], missing=column.missing)


def _schema(features, target, task, labels, class_names, train):
    """The schema; statistics and vocabularies come from the `train` rows only."""
    regression = task == REGRESSION
    numeric = [column for column in features if column.kind != "categorical"]
    categorical = [column for column in features if column.kind == "categorical"]
    return dict(
        task=task,
        target=target.name,
        class_names=list(class_names),
        target_mean=float(labels[train].mean()) if regression else None,
        target_variance=float(labels[train].var()) if regression else None,
        numeric=[_numeric_entry(column, train) for column in numeric],
        categorical=[_categorical_entry(column, train) for column in categorical],
    )


def _encode(features, schema, rows):
    """The `features` dict (numpy) of `rows`: NaN-holding numbers and vocabulary indices."""
    encoded = {}
    numeric = [column.values[rows] for column in features if column.kind != "categorical"]
    if numeric:
        encoded["numeric"] = np.stack(numeric, axis=1).astype(np.float32)
    categorical = [column for column in features if column.kind == "categorical"]
    if categorical:
        indices = []
        for column, entry in zip(categorical, schema["categorical"]):
            index = {value: i for i, value in enumerate(entry["vocabulary"][1:], start=1)}
            indices.append([index.get(value, 0) for value in column.values[rows]])
        encoded["categorical"] = np.array(indices, np.int32).T.reshape(len(rows), len(categorical))
    return encoded


def fill_missing(numeric, schema):
    """Returns the numeric features with NaN replaced by the training means (what the models do inside)."""
    means = np.array([entry["mean"] for entry in schema["numeric"]], np.float32)
    return np.where(np.isnan(numeric), means, numeric).astype(np.float32)


def load_table_dataset(name, seed=0, target=None, features=None, task=None):
    """Returns the `Splits` of a table: unbatched `(features dict, label)` examples.

    Args:
        name: one of `EMBEDDED_TABLES`, or `csv:FILE` (a header row; comma,
            semicolon or tab delimited; see `zoo.datasets.csv_table`).
        seed: seed of the 80/10/10 train/validation/test split.
        target: the column to predict; required for CSV files ("target" for the
            embedded tables).
        features: the input columns; None for all but the target.
        task: "tabular_regression" or "tabular_classification"; None infers it:
            text targets, and numeric ones with at most 20 distinct integers, are
            classification; other numeric targets regression.

    Returns:
        `Splits`, with `input_shape = (number of features,)`, `class_names`
        empty for regression, and `extras`:
        - `schema`: a JSON-able dict: `task`, `target`, `class_names`,
          `target_mean`/`target_variance` (regression, train split; else None),
          `numeric`: `[{name, kind ("numeric" or "boolean"), mean, variance, missing}]`
          in input order, `categorical`: `[{name, vocabulary, missing}]` in input
          order, vocabulary[0] being "<missing>" (missing or unseen). Means,
          variances and vocabularies come from the training split only; `missing`
          counts the whole table.
        - `arrays`: `{"train"|"validation"|"test": (features dict of numpy
          arrays, labels)}`, the same examples as the tf.data splits.
    """
    if name in EMBEDDED_TABLES:
        columns, target_column = _embedded_table(name, target, features)
    elif name.startswith("csv:"):
        columns, target_column = read_csv_table(name.removeprefix("csv:"), target, features)
    else:
        raise ZooError(f"Unknown table {name!r}: use csv:FILE or one of {', '.join(EMBEDDED_TABLES)}.")
    task, labels, class_names = _labels(target_column, task)
    rows = shuffled_split_indices(len(labels), seed)
    schema = _schema(columns, target_column, task, labels, class_names, rows[0])
    arrays = {name: (_encode(columns, schema, part), labels[part]) for name, part in zip(SPLIT_NAMES, rows)}
    train, validation, test = (tf.data.Dataset.from_tensor_slices(arrays[split]) for split in SPLIT_NAMES)
    return Splits(
        name=name,
        train=train,
        validation=validation,
        test=test,
        class_names=list(class_names),
        input_shape=(len(columns),),
        task=task,
        digest=_digest(arrays),
        extras=dict(schema=schema, arrays=arrays),
    )


def _digest(arrays):
    """The splits' digest: each example's raw features and label."""
    examples = []
    for split in SPLIT_NAMES:
        features, labels = arrays[split]
        parts = [features[key] for key in sorted(features)] + [labels[:, None].astype(np.float64)]
        examples.append([b"".join(part[i].tobytes() for part in parts) for i in range(len(labels))])
    return digest_of(examples)
