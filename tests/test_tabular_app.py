"""The tabular app through the task core: references in every run, coefficients, plots, export, Predictor."""

import json
import subprocess
import sys

import numpy as np
import pytest

import export
from helpers import assert_one_line_error, run
from zoo.datasets.tables import load_table_dataset
from zoo.run_folder import load_keras_file
from zoo_apps import tabular


@pytest.fixture(scope="module")
def diabetes_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("tabular") / "linear"
    run(tabular.main, f"--model_dir={model_dir}", "--export=float32,int8")  # the default command
    return model_dir


@pytest.mark.slow
def test_a_regression_run_reports_zoo_beside_scikit_learn(diabetes_run):
    metrics = json.loads((diabetes_run / "metrics.json").read_text())
    assert metrics["task"] == "tabular_regression" and metrics["test"]["num_examples"] == 44
    assert set(metrics["reference"]) == {"linear_regression", "ridge", "hist_gradient_boosting"}
    for values in metrics["reference"].values():
        assert set(values) == set(metrics["test"])  # the same metric names, so a script can compare
    # Least squares start: zoo's linear regression is scikit-learn's on the same split.
    assert metrics["test"]["r2"] == pytest.approx(metrics["reference"]["linear_regression"]["r2"], abs=0.01)
    ours, theirs = metrics["coefficients"]["coefficients"], metrics["reference_coefficients"]["coefficients"]
    for name in theirs:
        assert ours[name] == pytest.approx(theirs[name], rel=0.01, abs=1e-6)
    card = (diabetes_run / "MODEL_CARD.md").read_text()
    assert "scikit-learn hist_gradient_boosting" in card and "![Predicted vs actual" in card
    assert (diabetes_run / "predictions.png").is_file()


@pytest.mark.slow
def test_the_exported_file_answers_rows_like_keras(diabetes_run, tmp_path):
    splits = load_table_dataset("diabetes", seed=0)
    schema, (features, _) = splits.extras["schema"], splits.extras["arrays"]["test"]
    names = [entry["name"] for entry in schema["numeric"]]
    rows = [dict(zip(names, map(float, row))) for row in features["numeric"][:5]]
    rows[0][names[2]] = ""  # a missing value: the training mean
    expected = load_keras_file(diabetes_run / "model.keras").predict(
        np.where(np.arange(len(names)) == 2, np.nan, features["numeric"][:5])[:1], verbose=0
    )
    predictor = export.Predictor(diabetes_run / "export/model_float32.tflite")
    answers = predictor.predict(rows)
    assert len(answers) == 5 and answers[0] == pytest.approx(float(expected[0, 0]), rel=1e-4)
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text(",".join(names) + "\n" + "\n".join(",".join(str(row[n]) for n in names) for row in rows))
    assert predictor.predict(str(csv_file)) == pytest.approx(answers, rel=1e-5)
    report = json.loads((diabetes_run / "export/report.json").read_text())
    assert {row["file"] for row in report["files"]} >= {"model_float32.tflite", "model_int8.tflite"}
    with pytest.raises(Exception, match="lack the columns"):
        predictor.predict([{"age": 50}])


def test_a_classification_table_and_wrong_models(tmp_path):
    metrics = run(
        tabular.main, "--model=mlp", "--dataset=breast_cancer", "--epochs=2", f"--model_dir={tmp_path}/mlp"
    ).value
    assert metrics["task"] == "tabular_classification" and set(metrics["reference"]) == {
        "logistic_regression",
        "hist_gradient_boosting",
    }
    assert metrics["test"]["accuracy"] > 0.8 and (tmp_path / "mlp" / "roc.png").is_file()
    result = run(
        tabular.main, "--model=linear_regression", "--dataset=breast_cancer", f"--model_dir={tmp_path}/x", check=False
    )
    assert_one_line_error(
        result, "breast_cancer is a tabular classification table and linear_regression does not do that"
    )
    result = run(tabular.main, "--model=cnn", f"--model_dir={tmp_path}/y", check=False)
    assert_one_line_error(result, "'cnn' is a image_classification model, not a tabular one")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.slow
def test_the_command_keeps_tensorflows_native_logs_out_of_the_terminal(tmp_path):
    """Evaluation's "E0000 ... NodeDef mentions attribute use_unbounded_threadpool" went to the terminal."""
    command = [sys.executable, "-m", "zoo_apps.tabular", "--epochs=1", f"--model_dir={tmp_path / 'run'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "test R^2" in result.stdout
    assert result.stderr == "", result.stderr
    assert (tmp_path / "run" / "logs" / "native.log").is_file()  # where they go instead
