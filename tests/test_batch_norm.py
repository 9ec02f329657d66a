"""Precise batch norm: statistics recomputed from the training images with the final weights."""

import keras
import numpy as np
import pytest

import zoo
from helpers import run, write_pngs
from zoo import batch_norm
from zoo.registry import model_defaults
from zoo.run_folder import RunFolder, load_keras_file
from zoo_apps import image_classify, trainer


def two_batch_norms():
    inputs = keras.Input((3,))
    hidden = keras.layers.BatchNormalization(name="free")(keras.layers.Dense(4, name="dense")(inputs))
    frozen = keras.layers.BatchNormalization(name="frozen")
    frozen.trainable = False
    return keras.Model(inputs, frozen(hidden))


def test_recalibrate_sets_the_average_of_the_batch_statistics_and_touches_nothing_else():
    keras.utils.set_random_seed(0)
    model = two_batch_norms()
    x = np.random.default_rng(0).normal(5, 3, (60, 3)).astype("float32")
    dense = model.get_layer("dense")
    features = dense(x).numpy()
    before = {w.path: np.array(w) for w in model.weights}
    assert batch_norm.recalibrate(model, [(x[:20], None), (x[20:40], None), (x[40:], None)]) == 1
    free = model.get_layer("free")
    thirds = np.split(features, 3)
    np.testing.assert_allclose(free.moving_mean, features.mean(0), rtol=1e-5)
    np.testing.assert_allclose(free.moving_variance, np.mean([t.var(0) for t in thirds], 0), rtol=1e-5)
    assert free.momentum == 0.99  # restored
    for weight in model.weights:  # the dense layer and the frozen batch norm are as they were
        if not weight.path.startswith("free/moving"):
            np.testing.assert_array_equal(weight, before[weight.path])


def test_a_model_without_trainable_batch_norms_is_left_alone():
    model = two_batch_norms()
    model.get_layer("free").trainable = False
    before = [np.array(w) for w in model.weights]
    assert batch_norm.recalibrate(model, [np.ones((4, 3), "float32")]) == 0
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.weights))


def test_efficientnet_from_scratch_recalibrates_and_its_imagenet_recipe_has_nothing_to_recalibrate():
    assert model_defaults("efficientnet_lite0", {})[1]["precise_batch_norm"] is True
    model = zoo.create_model("efficientnet_lite0", 10, (32, 32, 3), freeze_batch_norm=True)
    assert batch_norm.recalibrate(model, [np.zeros((2, 32, 32, 3), "float32")]) == 0


@pytest.mark.slow
def test_the_app_recalibrates_after_the_last_epoch_and_a_rerun_ends_with_the_same_weights(tmp_path, monkeypatch):
    write_pngs(tmp_path / "data", count=16, size=16)
    last_epoch = {}
    end = trainer.Progress.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        end(self, epoch, logs)
        last_epoch.update({w.path: np.array(w) for w in self.model.weights})

    monkeypatch.setattr(trainer.Progress, "on_epoch_end", on_epoch_end)
    args = ["--model=resnet20", f"--dataset=folder:{tmp_path / 'data'}", "--batch_size=8", "--epochs=1"]
    run(image_classify.main, *args, "--precise_batch_norm", f"--model_dir={tmp_path / 'run'}")
    folder = RunFolder(tmp_path / "run")
    assert folder.config()["run"]["recipe"]["precise_batch_norm"] is True
    final = {w.path: np.array(w) for w in load_keras_file(folder.file("model.keras")).weights}
    moving = [path for path in final if "moving_" in path]
    assert moving and all(not np.array_equal(final[p], last_epoch[p]) for p in moving)
    assert all(np.array_equal(final[p], last_epoch[p]) for p in final if p not in moving)
    run(image_classify.main, *args, "--precise_batch_norm", f"--model_dir={tmp_path / 'run'}")  # resumes: 0 epochs
    again = {w.path: np.array(w) for w in load_keras_file(folder.file("model.keras")).weights}
    assert all(np.array_equal(again[p], final[p]) for p in final)
