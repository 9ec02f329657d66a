"""Every registered vision model: build, forward on raw pixels, save/load, one training step."""

import keras
import numpy as np
import pytest

import zoo
from helpers import slow_unless

# Small shapes keep the suite fast; each is valid for its architecture.
TEST_SHAPES = {
    "lenet5": (28, 28, 1),
    "mobilenet_v2": (32, 32, 3),
    "resnet18": (32, 32, 3),
}
TEST_KWARGS = {"mobilenet_v2": dict(alpha=0.35)}


def build(name, num_classes=4):
    shape = TEST_SHAPES.get(name, (16, 16, 1))
    model = zoo.create_model(name, num_classes, shape, **TEST_KWARGS.get(name, {}))
    pixels = np.random.default_rng(0).integers(0, 256, (2, *shape)).astype("float32")
    return model, pixels


@pytest.mark.parametrize(
    "name", slow_unless(zoo.list_models(task="image_classification"), fast={"cnn", "convnet", "lenet5"})
)
def test_forward_save_load_and_train_step(name, tmp_path):
    model, pixels = build(name)
    logits = np.asarray(model(pixels, training=False))
    assert logits.shape == (2, 4) and np.isfinite(logits).all()

    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)  # safe mode: no Lambda layers
    np.testing.assert_allclose(restored(pixels, training=False), logits, rtol=1e-5, atol=1e-5)

    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(pixels, np.array([0, 1]))
    assert np.isfinite(loss)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize(
    "name, shape, params",
    [
        ("cnn", (28, 28, 1), 347_146),
        ("convnet", (28, 28, 1), 225_034),
        ("lenet5", (32, 32, 3), 62_006),
        ("resnet20", (32, 32, 3), 274_042),
        ("resnet56", (32, 32, 3), 860_026),
    ],
)
def test_parameter_counts(name, shape, params):
    assert zoo.create_model(name, 10, shape).count_params() == params


def test_models_rescale_raw_pixels_inside():
    model = zoo.create_model("cnn", 10, (28, 28, 1))
    rescale = model.get_layer("rescale")
    np.testing.assert_allclose(rescale(np.full((1, 1, 1, 1), 255.0)), 1.0)


def test_resnet18_picks_its_stem_from_the_input_size():
    assert zoo.create_model("resnet18", 10, (32, 32, 3)).get_layer("stem_conv").strides == (1, 1)
    assert zoo.create_model("resnet18", 10, (64, 64, 3)).get_layer("stem_conv").strides == (2, 2)


def test_mobilenet_upsamples_small_images():
    model = zoo.create_model("mobilenet_v2", 10, (28, 28, 1), alpha=0.35)
    assert model.get_layer("upsample").output.shape[1:3] == (56, 56)


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 2), (28, 28, 4)])
def test_bad_input_shapes_are_refused(shape):
    with pytest.raises(zoo.ZooError, match="1 or 3 channels"):
        zoo.create_model("cnn", 10, shape)


def test_too_small_images_are_refused():
    with pytest.raises(zoo.ZooError, match="at least 16x16.*8, 8, 1"):
        zoo.create_model("lenet5", 10, (8, 8, 1))
