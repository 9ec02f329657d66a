"""What the tabular task writes and reads besides training: plots, card lines, and table rows as
a TFLite file takes them (for `export.Predictor`)."""

import csv
import pathlib

import matplotlib.pyplot as plt
import numpy as np
from sklearn import metrics as skm

from zoo import evaluation, plots
from zoo.datasets.csv_table import MISSING
from zoo.datasets.tables import REGRESSION
from zoo.errors import ZooError
from zoo.tabular.inputs import standardize


def write(folder, outputs, labels, schema):
    """Predicted vs actual and residuals (regression), or the confusion matrix and ROC curves."""
    if schema["task"] == REGRESSION:
        plots.plot_regression(outputs[:, 0], labels, folder.file("predictions.png"), schema["target"])
        return [("predictions.png", "Predicted vs actual and residuals on the test split")]
    classes = schema["class_names"]
    plots.plot_confusion_matrix(outputs.argmax(1), labels, classes, folder.file("confusion_matrix.png"))
    figure, axis = plt.subplots(figsize=(5, 5))
    probabilities = evaluation.softmax(outputs)
    for index, name in enumerate(classes if len(classes) > 2 else classes[1:]):
        if 0 < np.sum(labels == index) < len(labels):
            skm.RocCurveDisplay.from_predictions(labels == index, probabilities[:, index], name=name, ax=axis)
    axis.set_title("ROC curves (test split, one class against the rest)")
    plots.save(figure, folder.file("roc.png"))
    return [("confusion_matrix.png", "Confusion matrix on the test split"), ("roc.png", "ROC curves")]


def _row(name, values, keys):
    cells = [f"{values[key]:.4f}" if isinstance(values.get(key), float) else "-" for key in keys]
    return f"| {name} | " + " | ".join(cells) + " |"


def card_metrics(metrics):
    """The card's metrics: zoo's model beside the scikit-learn references on the same split."""
    test = metrics["test"]
    regression = metrics["task"] == REGRESSION
    keys = ("r2", "rmse", "mae") if regression else ("accuracy", "macro_f1", "auc_ovr")
    lines = [f"On the test split ({test['num_examples']:,} rows, never used for training or model selection):", ""]
    if regression and test.get("r2_interval", [None])[0] is not None:
        lines += [
            f"- R^2 **{test['r2']:.4f}** (95% bootstrap interval {test['r2_interval'][0]:.4f} "
            f"to {test['r2_interval'][1]:.4f})",
            "",
        ]
    elif not regression:
        low, high = evaluation.wilson_interval(test["accuracy"], test["num_examples"])
        lines += [f"- accuracy **{test['accuracy']:.4f}** (95% interval {low:.4f}-{high:.4f})", ""]
    lines += [f"| model | {' | '.join(keys)} |", "|---|" + "---|" * len(keys), _row("this model", test, keys)]
    lines += [_row(f"scikit-learn {name}", values, keys) for name, values in metrics["reference"].items()]
    if "coefficients" in metrics:
        theirs = metrics.get("reference_coefficients", {}).get("coefficients", {})
        lines += [
            "",
            "Coefficients in the original units (scikit-learn's alongside for regression):",
            "",
            "| feature | this model | scikit-learn |",
            "|---|---|---|",
        ]
        for name, value in [
            ("intercept", metrics["coefficients"]["intercept"]),
            *metrics["coefficients"]["coefficients"].items(),
        ]:
            other = (
                metrics.get("reference_coefficients", {}).get("intercept") if name == "intercept" else theirs.get(name)
            )
            lines.append(f"| {name} | {_number(value)} | {_number(other)} |")
    return lines


def _number(value):
    if value is None:
        return "-"
    return ", ".join(f"{v:.4g}" for v in value) if isinstance(value, list) else f"{value:.4g}"


def model_features(features, schema):
    """A features dict (raw numbers with NaN, category indices) as the TFLite file takes it."""
    encoded = {}
    if "numeric" in features:
        encoded["standardized_numeric"] = standardize(np.asarray(features["numeric"], np.float64), schema)
    if "categorical" in features:
        encoded["categorical"] = np.asarray(features["categorical"], np.int32)
    return encoded


def _cell_number(value, name):
    if value is None or str(value).strip().lower() in MISSING:
        return np.nan
    try:
        return float(value)
    except ValueError:
        if str(value).strip().lower() in ("true", "yes"):
            return 1.0
        if str(value).strip().lower() in ("false", "no"):
            return 0.0
        raise ZooError(f"Column {name!r} takes numbers. Received: {value!r}") from None


def encode_rows(rows, schema):
    """Table rows (dicts of column -> value, or a CSV file's path) as the raw features dict."""
    if isinstance(rows, (str, pathlib.Path)):
        with open(rows, newline="") as f:
            rows = list(csv.DictReader(f))
    if isinstance(rows, dict):
        rows = [rows]
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ZooError("Pass table rows as dicts (column -> value), a list of them, or a CSV file's path.")
    names = [entry["name"] for entry in schema["numeric"] + schema["categorical"]]
    missing = sorted({name for row in rows for name in names if name not in row})
    if missing:
        raise ZooError(
            f"The rows lack the columns {missing}: give every feature the model was trained on ({', '.join(names)})."
        )
    features = {}
    if schema["numeric"]:
        features["numeric"] = np.array(
            [[_cell_number(row[e["name"]], e["name"]) for e in schema["numeric"]] for row in rows]
        )
    if schema["categorical"]:
        indices = [{value: i for i, value in enumerate(e["vocabulary"])} for e in schema["categorical"]]
        features["categorical"] = np.array(
            [[index.get(str(row[e["name"]]), 0) for e, index in zip(schema["categorical"], indices)] for row in rows]
        )
    return features


def _raw_features(names, rows, schema):
    """The raw features dict of `rows`: arrays in the Keras model's input order `names`, a features dict,
    or table rows for `encode_rows`."""
    if isinstance(rows, np.ndarray):
        rows = [rows]
    if isinstance(rows, list) and rows and isinstance(rows[0], np.ndarray):
        return dict(zip(names, rows))
    if isinstance(rows, dict) and rows and set(rows) <= {"numeric", "categorical"}:
        return rows
    return encode_rows(rows, schema)


def predictor_inputs(predictor, rows):
    """Rows (dicts, a CSV path, or the raw features dict of `zoo.datasets.tables`) as `{input name: array}`."""
    schema = predictor.metadata["schema"]
    encoded = model_features(_raw_features(predictor.metadata["input_names"], rows, schema), schema)
    if "standardized_numeric" in encoded and not np.isfinite(encoded["standardized_numeric"]).all():
        raise ZooError("The rows hold infinite numbers: pass finite values (empty cells count as missing).")
    return encoded
