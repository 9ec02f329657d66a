"""Tabular data, models, scikit-learn references and their TFLite export."""

import csv
import inspect

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import export
import zoo
import zoo.tabular  # noqa: F401  (registers the tabular models)
from helpers import slow_unless
from zoo.datasets.tables import MISSING_CATEGORY, load_table_dataset
from zoo.tabular import inputs, metrics, reference
from zoo.tabular.linear import least_squares_start

BUILDERS = ("linear_regression", "logistic_regression", "mlp", "wide_and_deep")
COLORS = ("red", "green", "blue", "purple")


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory):
    """60 rows: a row id, numbers with NA and ?, categories (one with blanks), yes/no, free text, targets."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("tables") / "people.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow("row age color smoker income shift note label price empty gap".split())
        for row in range(60):
            age, smoker = int(rng.integers(18, 80)), bool(rng.integers(2))
            color = COLORS[row % 4] if row % 20 else COLORS[3]
            price = 3 * age + 20 * smoker + 10 * (color == "red") + rng.normal()
            writer.writerow(
                [
                    row,
                    "NA" if row % 7 == 0 else age,
                    "" if row % 9 == 0 else color,
                    "yes" if smoker else "no",
                    "?" if row % 11 == 0 else f"{rng.normal(5e4, 1e4):.1f}",
                    ("day", "night")[row % 2],
                    f"note {row}",
                    "high" if age > 50 else "low",
                    f"{price:.2f}",
                    "",
                    "" if row == 5 else row % 3,
                ]
            )
    return path


def load(path, target="label", **kwargs):
    features = ["row", "age", "color", "smoker", "income", "shift"]
    features = kwargs.pop("features", features)
    return load_table_dataset(f"csv:{path}", target=target, features=features, **kwargs)


def test_schema_infers_kinds_and_counts_missing_values(table_csv):
    splits = load(table_csv)
    schema = splits.extras["schema"]
    assert splits.task == schema["task"] == "tabular_classification"
    assert splits.class_names == schema["class_names"] == ["high", "low"]
    kinds = {entry["name"]: entry["kind"] for entry in schema["numeric"]}
    assert kinds == {"row": "numeric", "age": "numeric", "smoker": "boolean", "income": "numeric"}
    color, shift = schema["categorical"]
    assert color["name"] == "color" and color["vocabulary"][0] == MISSING_CATEGORY
    assert set(color["vocabulary"][1:]) <= set(COLORS)
    assert shift["vocabulary"] == [MISSING_CATEGORY, "day", "night"]
    missing = {entry["name"]: entry["missing"] for entry in schema["numeric"] + schema["categorical"]}
    assert missing == {"row": 0, "age": 9, "smoker": 0, "income": 6, "color": 7, "shift": 0}
    features, labels = splits.extras["arrays"]["train"]
    assert features["numeric"].dtype == np.float32 and features["numeric"].shape == (48, 4)
    assert features["categorical"].dtype == np.int32 and features["categorical"].shape == (48, 2)
    assert labels.dtype == np.int64
    assert set(np.unique(features["numeric"][:, 2])) == {0.0, 1.0}  # yes/no as 1/0
    spec, label_spec = splits.train.element_spec
    assert spec["numeric"].shape == (4,) and spec["categorical"].dtype == "int32"
    assert label_spec.dtype == "int64"
    regression = load(table_csv, target="price")
    assert regression.task == "tabular_regression" and regression.class_names == []
    assert regression.extras["arrays"]["test"][1].dtype == np.float32


def test_task_inference_and_override(table_csv):
    small_integers = load(table_csv, target="row", features=["age"])
    assert small_integers.task == "tabular_regression"  # 60 distinct integers: not classes
    assert load(table_csv, target="smoker", features=["age"]).class_names == ["no", "yes"]
    forced = load(table_csv, target="smoker", features=["age"], task="tabular_classification")
    assert forced.task == "tabular_classification" and forced.class_names == ["no", "yes"]
    with pytest.raises(zoo.ZooError, match=r"'price' looks continuous \(60 distinct values in 60 rows\)"):
        load(table_csv, target="price", features=["age"], task="tabular_classification")  # 60 classes of 1 row


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(target="nothing"), "Unknown target column 'nothing'"),
        (dict(target="pric"), "Did you mean 'price'"),
        (dict(features=["age", "colour"]), "Unknown feature column 'colour'.*Did you mean 'color'"),
        (dict(features=["age", "note"]), "Column 'note' looks like free text.*60 distinct values"),
        (dict(features=["age", "empty"]), "Column 'empty' has no values.*leave it out"),
        (dict(target="gap", features=["age"]), "Target column 'gap' has 1 missing values"),
        (dict(target="label", task="tabular_regression"), "'label' holds text"),
        (dict(target="label", features=["label"]), "is the target"),
    ],
)
def test_unusable_columns_give_one_line_errors(table_csv, kwargs, message):
    with pytest.raises(zoo.ZooError, match=message) as error:
        load(table_csv, **{"target": "label", **kwargs})
    assert "\n" not in str(error.value)


def test_split_is_80_10_10_and_seeded(table_csv):
    def rows(splits):
        arrays = splits.extras["arrays"]
        return [arrays[name][0]["numeric"][:, 0].tolist() for name in ("train", "validation", "test")]

    first = rows(load(table_csv, seed=1))
    assert [len(split) for split in first] == [48, 6, 6]
    assert sorted(sum(first, [])) == list(range(60))
    assert rows(load(table_csv, seed=1)) == first
    assert rows(load(table_csv, seed=2)) != first
    splits = load(table_csv, seed=1)
    sizes = [int(split.cardinality()) for split in (splits.train, splits.validation, splits.test)]
    assert sizes == [48, 6, 6]


def test_statistics_and_vocabularies_come_from_the_training_split_only(table_csv):
    splits = load(table_csv, seed=3)
    schema, arrays = splits.extras["schema"], splits.extras["arrays"]
    train = arrays["train"][0]["numeric"]
    np.testing.assert_allclose([e["mean"] for e in schema["numeric"]], np.nanmean(train, 0), rtol=1e-5)
    np.testing.assert_allclose([e["variance"] for e in schema["numeric"]], np.nanvar(train, 0), rtol=1e-4)
    everything = np.concatenate([arrays[name][0]["numeric"] for name in arrays])
    assert not np.allclose(np.nanmean(train, axis=0), np.nanmean(everything, axis=0))
    vocabulary = schema["categorical"][0]["vocabulary"]
    with open(table_csv, newline="") as f:
        colors = {int(row["row"]): row["color"] for row in csv.DictReader(f)}
    train_colors = {colors[int(row)] for row in train[:, 0]} - {""}
    assert set(vocabulary[1:]) == train_colors
    for features, _ in arrays.values():
        for row, index in zip(features["numeric"][:, 0], features["categorical"][:, 0]):
            expected = colors[int(row)]
            assert vocabulary[index] == (expected if expected in train_colors else MISSING_CATEGORY)


@pytest.fixture(scope="module")
def tables(table_csv):
    return {
        "tabular_classification": load(table_csv, seed=0),
        "tabular_regression": load(table_csv, target="price", seed=0),
    }


def build(name, splits, **kwargs):
    """The model for `splits`; wide_and_deep folds its color x shift cross (15 pairs) modulo 7."""
    if name == "wide_and_deep":
        kwargs.setdefault("cross_buckets", 7)
    kwargs.setdefault("schema", splits.extras["schema"])
    return zoo.create_model(name, splits.num_classes, splits.input_shape, **kwargs)


def task_of(name):
    return "tabular_classification" if name == "logistic_regression" else "tabular_regression"


@pytest.mark.parametrize(
    "name, task",
    slow_unless(
        [
            ("linear_regression", "tabular_regression"),
            ("logistic_regression", "tabular_classification"),
            ("mlp", "tabular_classification"),
            ("wide_and_deep", "tabular_regression"),
        ],
        fast={"linear_regression"},
    ),
)
def test_each_builder_builds_and_a_short_fit_reduces_the_loss(name, task, tables):
    splits = tables[task]
    keras.utils.set_random_seed(0)
    model = build(name, splits)
    regression = task == "tabular_regression"
    assert model.layers[-1].name == ("prediction" if regression else "logits")
    assert model.output_shape == (None, 1 if regression else 2)
    loss = "mse" if regression else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(0.03), loss, jit_compile=False)
    history = model.fit(splits.train.batch(16), epochs=15, shuffle=False, verbose=0).history["loss"]
    assert history[-1] < 0.7 * history[0], history


@pytest.mark.parametrize("name", BUILDERS)
def test_missing_values_and_unknown_categories_are_handled_inside_the_model(name, tables):
    splits = tables[task_of(name)]
    model = build(name, splits)
    features = {key: value[:4].copy() for key, value in splits.extras["arrays"]["test"][0].items()}
    means = np.array([e["mean"] for e in splits.extras["schema"]["numeric"]], np.float32)
    with_nan, with_mean = dict(features), dict(features)
    with_nan["numeric"] = np.where(np.eye(4, dtype=bool), np.nan, features["numeric"]).astype(np.float32)
    with_mean["numeric"] = np.where(np.eye(4, dtype=bool), means, features["numeric"]).astype(np.float32)
    np.testing.assert_allclose(model(with_nan), model(with_mean), rtol=1e-5)
    unknown, missing = dict(features), dict(features)
    unknown["categorical"] = np.full_like(features["categorical"], 99)
    missing["categorical"] = np.zeros_like(features["categorical"])
    np.testing.assert_allclose(model(unknown), model(missing), rtol=1e-6)


def test_builders_without_schema_and_task_checks(tables):
    assert zoo.create_model("mlp").input_shape == (None, 4)
    assert zoo.create_model("wide_and_deep", num_classes=1).layers[-1].name == "prediction"
    assert zoo.create_model("linear_regression", num_classes=10).output_shape == (None, 1)
    with pytest.raises(zoo.ZooError, match="use logistic_regression"):
        build("linear_regression", tables["tabular_classification"])
    with pytest.raises(zoo.ZooError, match="use linear_regression"):
        build("logistic_regression", tables["tabular_regression"])


def test_a_saved_model_loads_with_its_preprocessing(tables, tmp_path):
    splits = tables["tabular_classification"]
    model = build("wide_and_deep", splits)
    model.save(tmp_path / "model.keras")
    features = splits.extras["arrays"]["test"][0]
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "model.keras")(features), model(features))


def test_regression_metrics():
    labels = np.arange(20, dtype=np.float32)
    perfect = metrics.regression_metrics(labels, labels)
    assert perfect == dict(mse=0.0, rmse=0.0, mae=0.0, r2=1.0, r2_interval=[1.0, 1.0], num_examples=20)
    noisy = metrics.regression_metrics(labels + np.random.default_rng(0).normal(size=20), labels)
    assert noisy["r2_interval"][0] < noisy["r2"] < noisy["r2_interval"][1]
    assert noisy["rmse"] ** 2 == pytest.approx(noisy["mse"])
    assert metrics.regression_metrics(labels + np.random.default_rng(0).normal(size=20), labels) == noisy
    assert metrics.regression_metrics(np.full(20, np.nan), labels)["r2"] is None


@pytest.fixture(scope="module")
def diabetes():
    return load_table_dataset("diabetes", seed=0)


@pytest.mark.slow
def test_linear_regression_on_diabetes_reaches_scikit_learn(diabetes):
    """The registered recipe from the least-squares start (the epochs run as the steps of one
    epoch, full batches): R^2 within 0.01 and coefficients within 1% of scikit-learn's."""
    recipe = zoo.model_info("linear_regression")["recipe"]
    keras.utils.set_random_seed(0)
    model = build("linear_regression", diabetes, **least_squares_start(diabetes))
    schedule = keras.optimizers.schedules.CosineDecay(recipe["learning_rate"], recipe["epochs"])
    model.compile(keras.optimizers.Adam(schedule), "mse", jit_compile=False, steps_per_execution=50)
    assert recipe["batch_size"] >= 354  # one step per epoch
    model.fit(diabetes.train.batch(recipe["batch_size"]).repeat(recipe["epochs"]), shuffle=False, verbose=0)
    schema, arrays = diabetes.extras["schema"], diabetes.extras["arrays"]
    test_features, test_labels = arrays["test"]
    ours = metrics.regression_metrics(model.predict(test_features, verbose=0), test_labels)
    references = reference.fit_references(arrays, schema)
    assert set(references) == {"linear_regression", "ridge", "hist_gradient_boosting"}
    assert all(set(result) == set(ours) for result in references.values())
    assert ours["num_examples"] == 44
    assert abs(ours["r2"] - references["linear_regression"]["r2"]) < 0.01
    coefficients = reference.linear_coefficients(model, schema)
    expected = reference.sklearn_linear_coefficients(arrays, schema)
    assert list(coefficients["coefficients"]) == [entry["name"] for entry in schema["numeric"]]
    for name, value in expected["coefficients"].items():
        assert coefficients["coefficients"][name] == pytest.approx(value, rel=0.01), name
    assert coefficients["intercept"] == pytest.approx(expected["intercept"], rel=0.01)


@pytest.mark.parametrize(
    "name, task",
    [("linear_regression", "tabular_regression"), ("logistic_regression", "tabular_classification")],
)
def test_coefficients_in_original_units_reproduce_the_model(name, task, tables):
    """`x . coefficients + intercept` on raw features (one-hot categories) gives the model's output."""
    splits = tables[task]
    schema, model = splits.extras["schema"], build(name, splits)
    features = splits.extras["arrays"]["test"][0]
    found = reference.linear_coefficients(model, schema)
    coefficients = np.array([np.atleast_1d(value) for value in found["coefficients"].values()])
    raw = inputs.design_matrix(features, schema, standardize=False)
    expected = np.asarray(model(features))
    np.testing.assert_allclose(raw @ coefficients + found["intercept"], expected, rtol=1e-4, atol=1e-3)


def test_classification_references_give_the_zoo_metric_keys():
    splits = load_table_dataset("iris", seed=0)
    results = reference.fit_references(splits.extras["arrays"], splits.extras["schema"])
    logits = np.zeros((15, 3))
    expected = metrics.tabular_metrics(logits, splits.extras["arrays"]["test"][1], splits.extras["schema"])
    assert set(results) == {"logistic_regression", "hist_gradient_boosting"}
    for result in results.values():
        assert set(result) == set(expected) and result["num_examples"] == 15 and result["accuracy"] >= 0.8


def to_tflite(model, path, flavour, representative_data):
    """`export.to_tflite` whatever its flavour keyword is called (`quantize=` used "none" for float32)."""
    if "flavour" in inspect.signature(export.to_tflite).parameters:
        return export.to_tflite(model, path, flavour=flavour, representative_data=representative_data)
    quantize = "none" if flavour == "float32" else flavour
    return export.to_tflite(model, path, quantize=quantize, representative_data=representative_data)


def run_tflite(path, features):
    """Runs a TFLite file on each example of a features dict, quantizing int8 inputs and outputs."""
    interpreter = Interpreter(str(path))
    interpreter.allocate_tensors()
    (output,) = interpreter.get_output_details()
    outputs = []
    for row in range(len(next(iter(features.values())))):
        for detail in interpreter.get_input_details():
            value = features[detail["name"].removeprefix("serving_default_").split(":")[0]][row : row + 1]
            if detail["dtype"] == np.int8:
                scale, zero_point = detail["quantization"]
                value = np.clip(np.round(value / scale + zero_point), -128, 127).astype(np.int8)
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        value = interpreter.get_tensor(output["index"])[0].astype(np.float32)
        scale, zero_point = output["quantization"]
        outputs.append((value - zero_point) * scale if output["dtype"] == np.int8 else value)
    return np.array(outputs)


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_converts_with_builtin_ops_only(name, tables, tmp_path):
    """float32 takes raw numbers (NaN for missing); int8 the `standardized_model` (one int8
    scale per input tensor cannot cover raw numbers of different ranges)."""
    splits = tables[task_of(name)]
    model, schema = build(name, splits), splits.extras["schema"]
    standardized_model = inputs.standardized_model(model)
    train = {key: value.copy() for key, value in splits.extras["arrays"]["train"][0].items()}
    test = {key: value.copy() for key, value in splits.extras["arrays"]["test"][0].items()}
    test["numeric"][0, 1], test["categorical"][1:3, 0] = np.nan, (0, 99)  # missing and unknown
    for features in (train, test):
        features["standardized_numeric"] = inputs.standardize(features["numeric"], schema)
    np.testing.assert_allclose(standardized_model(test), model(test), rtol=1e-5, atol=1e-5)
    for flavour, exported in (("float32", model), ("int8", standardized_model)):
        path = tmp_path / f"model_{flavour}.tflite"
        names = [tensor.name for tensor in exported.inputs]
        calibration = [tuple(train[key][row] for key in names) for row in range(len(train["numeric"]))]
        description = to_tflite(exported, path, flavour, calibration)
        assert description["operators"] == export.operator_names(path.read_bytes())
        assert all(op.isupper() for op in description["operators"]), description["operators"]
        assert ("FLOOR_MOD" in description["operators"]) == (name == "wide_and_deep")  # the cross
        dtypes = {tensor["name"]: tensor["dtype"] for tensor in description["inputs"]}
        assert dtypes == {names[0]: "int8" if flavour == "int8" else "float32", "categorical": "int32"}
        expected = np.asarray(model(test))
        tolerance = 1e-4 if flavour == "float32" else 0.1 * np.abs(expected).max()
        np.testing.assert_allclose(run_tflite(path, test), expected, rtol=1e-4, atol=tolerance)
