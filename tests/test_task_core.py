"""A toy third task, defined here, runs through the unchanged app core, run folder, card and export."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from helpers import run
from zoo.datasets import Splits, batched
from zoo.datasets.splits import split_arrays
from zoo.tasks import ExportData, Task, register_task
from zoo_apps.core import run_app

RECIPE = dict(
    epochs=30,
    batch_size=32,
    optimizer="adam",
    learning_rate=0.05,
    lr_schedule="constant",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)
WEIGHTS = np.array([2.0, -1.0, 0.5], np.float32)


@zoo.register_model(task="toy_regression", input_shape=(3,), recipe=RECIPE, paper="Legendre 1805 (least squares)")
def toy_linear(num_classes=1, input_shape=(3,)):
    """One Dense unit: y = w.x + b."""
    inputs = keras.Input(input_shape, name="features")
    return keras.Model(inputs, keras.layers.Dense(1, name="prediction")(inputs), name="toy_linear")


class ToyRegression(Task):
    name, app, default_model, default_dataset = "toy_regression", "toy", "toy_linear", "line"
    catalog = (zoo.tasks.Dataset("line", "y = 2a - b + c/2 + 1 with noise, 400 rows"),)
    input_description, output_description = "3 float features", "`prediction`: y"
    output_name, report_columns = "prediction", ("rmse", "max_abs_diff")

    def load_data(self, dataset, seed=0, data_dir=None, **options):
        x = np.random.default_rng(0).normal(size=(400, 3)).astype(np.float32)
        y = x @ WEIGHTS + 1 + np.random.default_rng(1).normal(scale=0.01, size=400).astype(np.float32)
        (train, validation, test), digest = split_arrays(x, y, seed)
        cast = lambda x, y: (x, tf.cast(y, tf.float32))  # noqa: E731
        return Splits(dataset, train.map(cast), validation.map(cast), test.map(cast), [], (3,), digest=digest)

    def compile(self, model, recipe, new_optimizer):
        model.compile(optimizer=new_optimizer(), loss="mse")

    def training_pipelines(self, splits, recipe, seed):
        return (
            batched(splits.train, recipe["batch_size"], shuffle_seed=seed),
            batched(splits.validation, recipe["batch_size"]),
        )

    def evaluate(self, model, splits):
        x, y = next(splits.test.batch(1000).as_numpy_iterator())
        return dict(test=dict(rmse=float(np.sqrt(np.mean((model.predict(x, verbose=0)[:, 0] - y) ** 2))))), {}

    def export_data(self, config, model, data_dir=None):
        splits = self.load_data(config["run"]["dataset"])
        x, y = next(splits.test.batch(1000).as_numpy_iterator())
        return ExportData(model, x, y, list(x[:50]), dict(task=self.name, input_description="3 features"))

    def compare(self, outputs, reference, labels):
        rmse = float(np.sqrt(np.mean((outputs[-len(labels) :, 0] - labels) ** 2)))
        return dict(rmse=rmse, max_abs_diff=float(np.abs(outputs - reference).max()))

    def predictor_inputs(self, predictor, inputs):
        return np.asarray(inputs, np.float32).reshape(-1, 3)

    def decode(self, predictor, outputs, top_k=None):
        return [float(value) for value in outputs[:, 0]]


def toy_app(argv):
    """What zoo_apps/toy.py would hold: the task's name, no flags of its own."""
    return run_app("toy_regression", lambda flag_values: None, lambda flag_values: {}, argv)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    register_task(ToyRegression())
    model_dir = tmp_path_factory.mktemp("toy") / "run"
    metrics = run(
        toy_app,
        f"--model_dir={model_dir}",
        "--export=float32,int8",
    ).value
    return model_dir, metrics


@pytest.mark.slow
def test_a_new_task_trains_describes_and_exports_without_core_changes(toy_run):
    model_dir, metrics = toy_run
    assert metrics["test"]["rmse"] < 0.2  # it learned y = w.x + 1 (y has a spread of about 2.3)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["run"]["task"] == "toy_regression" and config["class_names"] == []
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "python -m zoo_apps.toy --model=toy_linear --dataset=line" in card and "| `model_int8.tflite` |" in card
    report = json.loads((model_dir / "export/report.json").read_text())
    rows = {row["file"]: row for row in report["files"]}
    assert rows["model_float32.tflite"]["max_abs_diff"] < 1e-4 and rows["model_int8.tflite"]["rmse"] < 0.2
    predictor = export.Predictor(model_dir / "export/model_float32.tflite")
    assert predictor.predict([1.0, 0.0, 0.0])[0] == pytest.approx(3.0, abs=0.1)


def test_the_app_core_refuses_a_model_of_another_task(toy_run, tmp_path):
    result = run(
        toy_app,
        "--model=cnn",
        f"--model_dir={tmp_path}/x",
        check=False,
    )
    assert result.code == 2 and "'cnn' is a image_classification model, not a toy_regression one" in result.stderr
