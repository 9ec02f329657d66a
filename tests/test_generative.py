"""The generative family: builders, training step, save/load, resume, TFLite export, quality measures."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

import zoo
import zoo.generative  # registers the generative models
from export import convert
from zoo.datasets import load_image_dataset
from zoo.generative import dcgan, quality
from zoo.pretrained import pretrained_info

NAMES = ("dcgan", "conditional_dcgan")
ALLOWED_RECIPE_KEYS = {
    "epochs",
    "batch_size",
    "optimizer",
    "learning_rate",
    "lr_schedule",
    "weight_decay",
    "label_smoothing",
    "augment",
}


def generator_inputs(model, num_images, seed=0):
    noise = model.noise(num_images, seed)
    labels = np.arange(num_images, dtype="int32") % 10
    return [noise, labels] if model.num_classes else noise


def tiny_data(shape=(28, 28, 1), num_images=8):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (num_images, *shape)).astype("float32")
    labels = np.arange(num_images, dtype="int64") % 10
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)


def to_tflite(model, path, flavour, representative_data=None):
    """`convert.to_tflite` with `flavour=` (float32, int8, ...) or, before that rename, `quantize=`."""
    if "flavour" in inspect.signature(convert.to_tflite).parameters:
        return convert.to_tflite(model, path, flavour=flavour, representative_data=representative_data)
    quantize = "none" if flavour == "float32" else flavour
    return convert.to_tflite(model, path, quantize=quantize, representative_data=representative_data)


def run_tflite(path, inputs):
    """Runs a TFLite file on one example per call; float inputs and outputs (de)quantized."""
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    details = {detail["name"]: detail for detail in interpreter.get_input_details()}
    output = interpreter.get_output_details()[0]
    named = inputs if isinstance(inputs, list) else [inputs]
    results = []
    for i in range(len(named[0])):
        for name, values in zip(("noise", "label"), named):
            detail = next(d for key, d in details.items() if name in key)
            value = values[i : i + 1]
            scale, zero_point = detail["quantization"]
            if scale and detail["dtype"] != values.dtype:
                value = np.clip(np.round(value / scale + zero_point), -128, 127)
            interpreter.set_tensor(detail["index"], value.astype(detail["dtype"]))
        interpreter.invoke()
        value = interpreter.get_tensor(output["index"]).astype("float32")
        scale, zero_point = output["quantization"]
        results.append((value - zero_point) * scale if scale else value)
    return np.concatenate(results)


@pytest.fixture(scope="module")
def trained():
    """Each model after two `fit` steps on tiny data: `{name: (model, weights before, history)}`."""
    keras.utils.set_random_seed(0)
    models = {}
    for name in NAMES:
        model = zoo.create_model(name)
        model.compile(learning_rate=1e-3)
        before = [network.get_weights() for network in (model.generator, model.discriminator)]
        history = model.fit(tiny_data(), epochs=1, verbose=0)
        models[name] = model, before, history.history
    return models


def test_registered_with_generation_task_and_recipe():
    assert set(NAMES) <= set(zoo.list_models(task="image_generation"))
    for name in NAMES:
        info = zoo.model_info(name)
        assert info["input_shape"] == (28, 28, 1) and set(info["recipe"]) <= ALLOWED_RECIPE_KEYS


def test_the_training_noise_follows_the_global_seed():
    """`--seed` (the global seed) decides the noise the GAN trains on; an explicit seed overrides it."""

    def noise_state(global_seed, **kwargs):
        keras.utils.set_random_seed(global_seed)
        return np.asarray(zoo.create_model("dcgan", filters=4, **kwargs).seed_generator.state)

    np.testing.assert_array_equal(noise_state(1), noise_state(1))
    assert not np.array_equal(noise_state(1), noise_state(2))
    np.testing.assert_array_equal(noise_state(1, seed=5), noise_state(2, seed=5))


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
@pytest.mark.parametrize("name", NAMES)
def test_builders_generate_pixels_of_the_image_shape(name, shape):
    model = zoo.create_model(name, input_shape=shape)
    pixels = np.asarray(model(generator_inputs(model, 3)))
    assert pixels.shape == (3, *shape)
    assert pixels.min() >= 0 and pixels.max() <= 255 and pixels.std() > 0
    if model.num_classes:
        logit, class_logits = model.discriminator([pixels, np.arange(3, dtype="int32")])
        assert class_logits.shape == (3, 10)
    else:
        logit = model.discriminator(pixels)
    assert logit.shape == (3, 1)


def test_bad_image_shape_is_a_zoo_error():
    with pytest.raises(zoo.ZooError, match="even and at least 8 pixels"):
        zoo.create_model("dcgan", input_shape=(7, 7, 1))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_fit_trains_both_networks(trained, name):
    model, before, history = trained[name]
    for network, old in zip((model.generator, model.discriminator), before):
        assert any(not np.allclose(a, b) for a, b in zip(old, network.get_weights())), network.name
    assert np.isfinite(history["d_loss"][0]) and np.isfinite(history["g_loss"][0])
    if model.num_classes:
        assert 0 <= history["aux_accuracy"][0] <= 1
    assert model.generator_optimizer.iterations.numpy() == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(trained, name, tmp_path):
    model = trained[name][0]
    inputs = generator_inputs(model, 4)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")  # safe mode
    assert type(restored) is dcgan.GAN and restored.num_classes == model.num_classes
    np.testing.assert_array_equal(restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    for a, b in zip(restored.generator_optimizer.variables, model.generator_optimizer.variables):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_resumes(tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise RuntimeError("interrupted")

    def fit(callbacks):
        model = zoo.create_model("conditional_dcgan")
        model.compile(run_eagerly=True)  # no tracing: faster for two steps
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        return model, model.fit(tiny_data(), epochs=2, verbose=0, callbacks=[backup, *callbacks])

    with pytest.raises(RuntimeError, match="interrupted"):
        fit([Interrupt()])
    model, history = fit([])
    assert len(history.history["d_loss"]) == 1  # only the second epoch ran
    assert model.discriminator_optimizer.iterations.numpy() == 4


@pytest.mark.slow
def test_generator_converts_to_builtin_tflite(trained, tmp_path):
    model = trained["conditional_dcgan"][0]
    noise, labels = generator_inputs(model, 16, seed=1)
    expected = np.asarray(model.generator([noise, labels], training=False))
    float32 = to_tflite(model.generator, tmp_path / "model_float32.tflite", "float32")
    assert float32["operators"]
    np.testing.assert_allclose(run_tflite(tmp_path / "model_float32.tflite", [noise, labels]), expected, atol=0.05)
    calibration = list(zip(*generator_inputs(model, 64, seed=2)))
    to_tflite(model.generator, tmp_path / "model_int8.tflite", "int8", calibration)
    int8 = run_tflite(tmp_path / "model_int8.tflite", [noise, labels])
    assert np.abs(int8 - expected).mean() < 2 and np.abs(int8 - expected).max() < 20


@pytest.mark.slow
def test_sample_grid_rows_ask_for_classes(trained):
    model = trained["conditional_dcgan"][0]
    grid = dcgan.sample_grid(model, columns=3, rows=10, seed=0)
    assert grid.shape == (280, 84, 1) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid, dcgan.sample_grid(model, columns=3, rows=10, seed=0))
    first_in_row_3 = np.round(model.generate(model.noise(3, seed=0)[:1], [3]))[0]
    np.testing.assert_allclose(grid[84:112, :28], np.clip(first_in_row_3, 0, 255), atol=1)


@pytest.mark.slow
def test_sample_grid_of_an_unconditional_model_has_distinct_samples(trained):
    grid = dcgan.sample_grid(trained["dcgan"][0], columns=2, rows=2, seed=0)
    cells = [grid[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] for r in range(2) for c in range(2)]
    assert grid.shape == (56, 56, 1) and len({cell.tobytes() for cell in cells}) == 4


def test_frechet_distance_is_zero_for_a_set_with_itself_and_grows_with_a_shift():
    features = np.random.default_rng(0).normal(size=(400, 16))
    assert quality.frechet_distance(features, features) == pytest.approx(0, abs=1e-6)
    shifted = [quality.frechet_distance(features, features + shift) for shift in (0.5, 1.0, 2.0)]
    np.testing.assert_allclose(shifted, [16 * 0.25, 16 * 1.0, 16 * 4.0], rtol=1e-6)


def test_classifier_score_bounds():
    confident = np.eye(10)[np.arange(100) % 10] * 50
    assert quality.classifier_score(confident) == pytest.approx(10, rel=1e-3)
    assert quality.classifier_score(np.zeros((100, 10))) == pytest.approx(1)


class RealDigits:
    """A fake conditional generator: returns real digits of the class asked for."""

    num_classes = 10
    latent_dim = 4

    def __init__(self, images, labels):
        self.by_class = {c: images[labels == c] for c in range(10)}

    def noise(self, num_images, seed=0):
        return np.random.default_rng(seed).standard_normal((num_images, self.latent_dim))

    def generate(self, noise, labels):
        return np.stack([self.by_class[c][i % len(self.by_class[c])] for i, c in enumerate(labels)])


@pytest.fixture(scope="module")
def tiny_classifier_and_digits():
    """A dense classifier trained for seconds, and test digits it classifies right."""
    splits = load_image_dataset("mnist_5k")
    inputs = keras.Input((28, 28, 1), name="pixels")
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.Dense(32, activation="relu", name="fc")(x)
    classifier = keras.Model(inputs, keras.layers.Dense(10, name="logits")(x), name="tiny")
    classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    classifier.fit(splits.train.batch(128), epochs=3, verbose=0)
    images, labels = next(splits.test.batch(500).as_numpy_iterator())
    right = classifier.predict(images, verbose=0).argmax(1) == labels
    return classifier, images[right], labels[right]


@pytest.mark.slow
def test_class_match_is_one_for_real_digits_of_the_asked_class(tiny_classifier_and_digits):
    classifier, images, labels = tiny_classifier_and_digits
    train, held_out = images[: len(images) // 2], images[len(images) // 2 :]
    result = quality.evaluate_generator(RealDigits(images, labels), train, held_out, classifier, num_images=200)
    assert result["class_match"] == 1.0
    assert result["classifier"] == "tiny" and result["classifier_sha256"] is None
    assert result["num_images"] == 200 and sum(result["class_histogram"]) == 200
    assert result["class_histogram"] == [20] * 10  # every class asked for equally often, and drawn
    assert result["num_train_images"] == len(train) and result["num_held_out_images"] == len(held_out)
    assert result["frechet_floor"] < result["frechet_noise"]
    assert result["frechet_distance"] < result["frechet_noise"] / 10
    assert result["frechet_ratio"] == pytest.approx(result["frechet_distance_at_floor_size"] / result["frechet_floor"])
    low, high = result["kid_interval"]
    assert low <= result["kid"] <= high and result["kid_subset_size"] == min(len(held_out), 200)
    wrong = RealDigits(images, (labels + 1) % 10)
    assert quality.evaluate_generator(wrong, train, held_out, classifier, num_images=100)["class_match"] == 0.0


def test_kid_is_unbiased_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(600, 16)), rng.normal(size=(600, 16))
    same = quality.kernel_inception_distance(a, b, subsets=20, subset_size=300)
    assert abs(same["kid"]) < 0.01 and same["kid_interval"][0] < 0 < same["kid_interval"][1]
    shifted = [
        quality.kernel_inception_distance(a, b + shift, subsets=20, subset_size=300)["kid"] for shift in (0.5, 1)
    ]
    assert 0.05 < shifted[0] < shifted[1] and shifted[0] > same["kid_interval"][1]
    assert quality.kernel_inception_distance(a, b[:50], subsets=3)["kid_subset_size"] == 50


def test_kid_matches_the_unbiased_mmd_formula_on_whole_sets():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 4)), rng.normal(0.3, 1, size=(30, 4))
    kernel = lambda a, b: (a @ b.T / 4 + 1) ** 3
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    off = lambda k: (k.sum() - np.trace(k)) / (30 * 29)
    expected = off(k_xx) + off(k_yy) - 2 * k_xy.mean()
    result = quality.kernel_inception_distance(x, y, subsets=2, subset_size=30)
    assert result["kid"] == pytest.approx(expected) and result["kid_interval"] == pytest.approx([expected] * 2)


def test_the_frechet_distance_of_small_samples_is_biased_upwards_which_the_floor_shares():
    rng = np.random.default_rng(2)
    reference = rng.normal(size=(4000, 32))
    small, large = (quality.frechet_distance(rng.normal(size=(n, 32)), reference) for n in (250, 4000))
    assert small > 5 * large  # same distribution: only the sample size differs


def test_class_histogram_counts_the_judges_classes():
    logits = np.eye(4)[[0, 0, 3, 1, 0]]
    assert quality.class_histogram(logits) == [3, 1, 0, 1]
    assert quality.class_histogram(logits[:, :2], num_classes=3) == [4, 1, 0]


def test_default_judge_is_the_shipped_convnet():
    judge = quality.load_judge()
    assert judge.name == "convnet_mnist_5k"
    assert judge.sha256 == pretrained_info("convnet_mnist_5k")["sha256"]
    features, logits = judge.features_and_logits(np.zeros((2, 28, 28, 1)))
    assert features.shape == (2, 128) and logits.shape == (2, 10)
