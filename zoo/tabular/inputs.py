"""What every tabular model shares: its inputs, preprocessing and output head.

Preprocessing lives inside the models, so Python, SavedModel and TFLite callers
all feed the same raw values: missing numbers (NaN) become the training means,
then numbers are standardized with the training statistics; category indices
outside the vocabulary become 0 (missing/unknown). Every op here is a TFLite
builtin (NOT_EQUAL, SELECT_V2, UNPACK, LESS, GATHER, MUL, ADD, FLOOR_MOD).

Output convention: the schema decides the head. Classification gives
`len(class_names)` float32 logits (no softmax) from a layer named `logits`;
regression one float32 value in the target's units from a layer named
`prediction` (`num_classes` is then ignored): the model learns the standardized
target, which `prediction` rescales with the training mean and variance. Without
a schema the model takes `input_shape[0]` standardized numbers, and
`num_classes == 1` means regression.

`standardized_model(model)` is the part to convert to full-integer (int8) TFLite
files: it takes standardized numbers (`standardize`), whose ranges one int8 scale covers.
"""

import math

import keras
import numpy as np

from zoo.datasets.tables import CLASSIFICATION, REGRESSION
from zoo.errors import ZooError

NORMALIZATION_EPSILON = 1e-7  # keras.layers.Normalization divides by max(std, epsilon)


@keras.saving.register_keras_serializable(package="zoo")
class ImputeMissing(keras.layers.Layer):
    """Replaces NaN by per-feature `mean`s; `x != x` holds for NaN only (NOT_EQUAL + SELECT_V2)."""

    def __init__(self, mean, **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(value) for value in mean]

    def call(self, x):
        mean = keras.ops.convert_to_tensor(np.asarray(self.mean, np.float32), dtype=x.dtype)
        return keras.ops.where(keras.ops.not_equal(x, x), mean, x)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean}


@keras.saving.register_keras_serializable(package="zoo")
class CategoryColumns(keras.layers.Layer):
    """Splits `(batch, columns)` category indices into one `(batch,)` tensor per column,
    mapping indices outside `[0, size)` to 0 (missing/unknown)."""

    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = [int(size) for size in sizes]

    def call(self, indices):
        columns = keras.ops.unstack(keras.ops.cast(indices, "int32"), num=len(self.sizes), axis=1)
        return [
            keras.ops.where(keras.ops.logical_and(column >= 0, column < size), column, 0)
            for column, size in zip(columns, self.sizes)
        ]

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes}


@keras.saving.register_keras_serializable(package="zoo")
class OneHot(keras.layers.Layer):
    """One-hot float vectors of `depth` from int indices: rows of an identity matrix (GATHER).

    Not TFLite's ONE_HOT: in full-integer files the converter quantizes its "off"
    value with other parameters than its output, and every 0 reads as 0.5.
    """

    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)

    def call(self, indices):
        return keras.ops.take(keras.ops.eye(self.depth, dtype=self.compute_dtype), indices, axis=0)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


def default_schema(input_shape, num_classes):
    """The schema of a table of `input_shape[0]` standardized numbers, no missing values:
    regression if `num_classes == 1`, else `num_classes` classes."""
    if len(input_shape) != 1 or input_shape[0] < 1:
        raise ZooError(f"Tabular models take (number of features,). Received: input_shape={input_shape}")
    regression, count = num_classes == 1, input_shape[0]
    return dict(
        task=REGRESSION if regression else CLASSIFICATION,
        target="target",
        class_names=[] if regression else [str(i) for i in range(num_classes)],
        target_mean=0.0 if regression else None,
        target_variance=1.0 if regression else None,
        numeric=[dict(name=f"x{i}", kind="numeric", mean=0.0, variance=1.0, missing=0) for i in range(count)],
        categorical=[],
    )


def model_schema(model_name, schema, num_classes, input_shape, task=None):
    """`schema`, or `default_schema` without one; refuses a schema of another `task` than the model's."""
    schema = schema or default_schema(input_shape, 1 if task == REGRESSION else num_classes)
    if task and schema["task"] != task:
        other = "logistic_regression" if task == REGRESSION else "linear_regression"
        raise ZooError(f"{model_name} is a {task} model but the table is {schema['task']}: use {other}.")
    if schema["task"] == CLASSIFICATION and len(schema["class_names"]) < 2:
        raise ZooError(f"{model_name} needs at least 2 classes. Received: {schema['class_names']}")
    return schema


def table_schema(splits, **options):
    """The builder kwargs that a table's splits give (the registry's `adapt`): its schema."""
    return dict(schema=splits.extras["schema"])


def table_inputs(schema):
    """Returns `(inputs, numbers, categories)` for a schema.

    `inputs` is the list of the model's inputs, named `numeric` and `categorical`
    (Keras maps a features dict onto it by name),
    `numbers` the imputed and standardized `(batch, n_numeric)` tensor or None,
    `categories` a list of `(batch,)` int32 vocabulary indices, one per column.
    """
    inputs, numbers, categories = [], None, []
    if schema["numeric"]:
        raw = keras.Input((len(schema["numeric"]),), name="numeric")
        means = [entry["mean"] for entry in schema["numeric"]]
        variances = [entry["variance"] for entry in schema["numeric"]]
        numbers = ImputeMissing(means, name="impute")(raw)
        numbers = keras.layers.Normalization(mean=means, variance=variances, name="normalize")(numbers)
        inputs.append(raw)
    if schema["categorical"]:
        raw = keras.Input((len(schema["categorical"]),), dtype="int32", name="categorical")
        categories = CategoryColumns(vocabulary_sizes(schema), name="categories")(raw)
        inputs.append(raw)
    return inputs, numbers, categories


def vocabulary_sizes(schema):
    """The vocabulary size of each categorical column (index 0 included)."""
    return [len(entry["vocabulary"]) for entry in schema["categorical"]]


def embedded_features(numbers, categories, schema, embedding_dim):
    """Standardized numbers and one learned embedding per category column side by side."""
    parts = [numbers] if numbers is not None else []
    for i, (entry, column) in enumerate(zip(schema["categorical"], categories)):
        size, name = len(entry["vocabulary"]), _layer_name("embed", i, entry)
        parts.append(keras.layers.Embedding(size, min(embedding_dim, size), name=name)(column))
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="deep_features")(parts)


def one_hot_features(numbers, categories, schema):
    """Standardized numbers and one-hot categories side by side: `(batch, features)`."""
    parts = [numbers] if numbers is not None else []
    for i, (entry, column) in enumerate(zip(schema["categorical"], categories)):
        parts.append(OneHot(len(entry["vocabulary"]), name=_layer_name("one_hot", i, entry))(column))
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features")(parts)


def output_units(schema):
    """1 for regression, else the number of classes."""
    return 1 if schema["task"] == REGRESSION else len(schema["class_names"])


def head(x, schema):
    """The last Dense layer: class `logits`, or for regression one `standardized`
    value that `prediction` turns into the target's units."""
    if schema["task"] == CLASSIFICATION:
        return keras.layers.Dense(len(schema["class_names"]), dtype="float32", name="logits")(x)
    return _target_units(keras.layers.Dense(1, dtype="float32", name="standardized")(x), schema)


def sum_head(parts, schema):
    """Sums score tensors of `output_units(schema)`: as `logits`, or as `standardized` then `prediction`."""
    if schema["task"] == CLASSIFICATION:
        return keras.layers.Add(dtype="float32", name="logits")(parts)
    return _target_units(keras.layers.Add(dtype="float32", name="standardized")(parts), schema)


def _target_units(standardized, schema):
    """`prediction = std * standardized + mean`, with the target's training statistics."""
    std = math.sqrt(schema["target_variance"]) or 1.0
    rescale = keras.layers.Rescaling(std, offset=schema["target_mean"], dtype="float32", name="prediction")
    return rescale(standardized)


def _layer_name(prefix, index, entry):
    """A unique layer name for category column `index` that shows its name."""
    return f"{prefix}{index}_" + "".join(c if c.isalnum() else "_" for c in entry["name"].lower())


def standardization(schema):
    """`(mean, std)` of the numeric features (training split), as the models standardize them."""
    mean = np.array([entry["mean"] for entry in schema["numeric"]], np.float64)
    std = np.sqrt([entry["variance"] for entry in schema["numeric"]])
    return mean, np.maximum(std, NORMALIZATION_EPSILON)


def design_matrix(features, schema, standardize=True):
    """A features dict (numpy) as the linear models see it: numbers with NaN replaced by the
    training means (and standardized when `standardize`), then the one-hot categories."""
    parts = []
    if schema["numeric"]:
        mean, std = standardization(schema)
        numbers = np.where(np.isnan(features["numeric"]), mean, features["numeric"])
        parts.append((numbers - mean) / std if standardize else numbers)
    for column, entry in enumerate(schema["categorical"]):
        parts.append(np.eye(len(entry["vocabulary"]))[features["categorical"][:, column]])
    return np.concatenate(parts, axis=1)


def standardize(numeric, schema):
    """Raw numbers (numpy, NaN for missing) as `standardized_model` takes them:
    `(x - mean) / std` with the training statistics, 0 (the mean) where missing."""
    mean, std = standardization(schema)
    return np.nan_to_num((numeric - mean) / std, nan=0.0).astype(np.float32)


def standardized_model(model):
    """The part of a tabular model after its numeric preprocessing, for int8 TFLite files.

    A full-integer file quantizes each input tensor with one scale; raw numbers of
    different ranges (breast_cancer: areas near 1000, smoothness near 0.1) then
    collapse onto a few int8 values, and the file answers one class whatever the
    input. Standardized numbers share one range. This model takes `standardized_numeric`
    (float32, `(n_numeric,)`, from `standardize`) and the same `categorical`
    indices as `model`, and shares its layers (weights included) except the
    imputation and standardization; `model` itself if it has no numbers.
    """
    if "normalize" not in [layer.name for layer in model.layers]:
        return model
    renamed = {"numeric": "standardized_numeric"}
    new_inputs = [
        keras.Input(tensor.shape[1:], dtype=tensor.dtype, name=renamed.get(tensor.name, tensor.name))
        for tensor in model.inputs
    ]

    def share_or_skip(layer):
        if layer.name in ("impute", "normalize"):
            return keras.layers.Identity(name=f"{layer.name}_done")
        return layer

    clone = keras.models.clone_model(model, input_tensors=new_inputs, clone_function=share_or_skip)
    clone.name = f"{model.name}_standardized"
    return clone
