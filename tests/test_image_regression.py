"""A toy image-regression task, defined in this file alone: the image input side plus the regression head.

Nothing outside this file changes for it: it trains through the app core, gets a card whose export table has
the head's columns, prints numbers from `python -m export.predict`, and its int8 file returns float32
predictions that are not clipped at the calibration data's largest value.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from export.predict import cli as predict_cli
from helpers import run
from zoo.datasets import Splits
from zoo.datasets.splits import split_arrays
from zoo.tasks import Task, register_task
from zoo.tasks.base import Dataset
from zoo.tasks.image_input import ImageInput
from zoo.tasks.regression import RegressionHead
from zoo_apps.core import run_app

RECIPE = dict(
    epochs=60,
    batch_size=32,
    optimizer="adam",
    learning_rate=0.1,
    lr_schedule="constant",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)


@zoo.register_model(task="toy_image_regression", input_shape=(8, 8, 1), recipe=RECIPE, paper="-")
def toy_brightness(num_classes=1, input_shape=(8, 8, 1)):
    """Mean brightness, learned: rescale, average, one Dense unit."""
    pixels = keras.Input(input_shape, name="pixels")
    x = keras.layers.Rescaling(1 / 255)(pixels)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(pixels, keras.layers.Dense(num_classes, name="prediction")(x), name="toy_brightness")


class Brightness(ImageInput):
    catalog = (Dataset("dim", "8x8 gray images of brightness 0-127; the target is 10 x mean pixel / 255"),)

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        rng = np.random.default_rng(0)
        levels = rng.uniform(0, 120, (300, 1, 1, 1))
        images = np.clip(levels + rng.normal(0, 5, (300, 8, 8, 1)), 0, 127).astype(np.float32).round()
        targets = 10 * images.mean(axis=(1, 2, 3)) / 255
        (train, validation, test), digest = split_arrays(images, targets, seed)
        cast = lambda x, y: (x, tf.cast(y, tf.float32))  # noqa: E731
        return Splits(dataset, train.map(cast), validation.map(cast), test.map(cast), [], (8, 8, 1), digest=digest)


TASK = Task("toy_image_regression", "toy_image", Brightness(), RegressionHead(), "toy_brightness", "dim")


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory):
    register_task(TASK)
    model_dir = tmp_path_factory.mktemp("toy_image") / "run"
    app = lambda argv: run_app(TASK.name, lambda flag_values: None, lambda flag_values: {}, argv)  # noqa: E731
    metrics = run(app, f"--model_dir={model_dir}", "--export=float32,int8").value
    return model_dir, metrics


@pytest.mark.slow
def test_an_image_regressor_trains_and_its_card_has_the_heads_columns(regression_run):
    model_dir, metrics = regression_run
    assert metrics["test"]["rmse"] < 0.3  # targets span 0-5
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "| file | size KB | rmse | agreement with Keras | latency ms | fidelity gate |" in card
    assert "RMSE **" in card and "accuracy" not in card.split("## Export")[1]
    rows = {row["file"]: row for row in json.loads((model_dir / "export/report.json").read_text())["files"]}
    assert rows["model_int8.tflite"]["agreement"] >= 0.99 and rows["model_int8.tflite"]["gate"]["passed"]


@pytest.mark.slow
def test_the_int8_file_returns_float_predictions_not_int8_steps(regression_run):
    """The head picks a float32 output for the int8 file: no int8 output scale to clip or round predictions at.
    (Inside the file the last layer's int8 activations still span the calibration data's range only.)"""
    model_dir, _ = regression_run
    model = keras.saving.load_model(model_dir / "model.keras")
    images = np.stack([np.full((8, 8, 1), level, np.float32) for level in (3, 40, 90, 110)])
    expected = np.asarray(model(images))[:, 0]
    path = model_dir / "export/model_int8.tflite"
    assert export.sidecar.read(path)["outputs"][0]["dtype"] == "float32"
    predictor = export.Predictor(path)
    assert predictor.labels is None
    np.testing.assert_allclose(predictor.predict(images), expected, atol=0.05)


@pytest.mark.slow
def test_export_predict_prints_the_predicted_number(regression_run, tmp_path):
    model_dir, _ = regression_run
    image = tmp_path / "gray.png"
    tf.io.write_file(str(image), tf.io.encode_png(np.full((8, 8, 1), 100, np.uint8)))
    result = run(predict_cli, f"--model={model_dir}/export/model_float32.tflite", str(image))
    value = float(result.stdout.strip().split(": ")[1])
    assert value == pytest.approx(10 * 100 / 255, abs=0.3)
