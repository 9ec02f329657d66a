"""The generation app: a GAN through the app core, its samples, quality and export, and the shipped generators."""

import json
import subprocess
import sys

import numpy as np
import pytest

import export
import zoo
from helpers import assert_one_line_error, run
from zoo.generative import quality
from zoo.pretrained import pretrained_info
from zoo.run_folder import RunFolder, load_keras_file
from zoo.tasks import image_generation
from zoo_apps import generate
from zoo_apps.trainer import StopOnNonFiniteLoss


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A 2-epoch conditional_dcgan run on the 8x8 digits, exported to float32 and int8; quality on 400 images."""
    model_dir = tmp_path_factory.mktemp("generate") / "run"
    args = ("--dataset=digits", "--epochs=2", "--batch_size=256", f"--model_dir={model_dir}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(image_generation, "QUALITY_IMAGES", 400)
        result = run(generate.main, *args, "--export=float32,int8")
    return RunFolder(model_dir), result, args


@pytest.mark.slow  # the digits_run fixture trains and exports a GAN
def test_the_run_folder_holds_samples_of_every_epoch_curves_quality_and_a_card(digits_run):
    folder, result, _ = digits_run
    assert "Frechet distance" in result.stdout and "class match" in result.stdout
    for name in ("samples/epoch_001.png", "samples/epoch_002.png", "samples.png", "progress.png"):
        assert folder.file(name).stat().st_size > 0, name
    assert list(folder.file("logs/samples").glob("events.out.tfevents.*"))  # the grids in TensorBoard
    assert {"d_loss", "g_loss", "val_d_loss", "val_g_loss"} <= set(folder.history()[-1])
    assert folder.file("training_curves.png").stat().st_size > 0
    test = folder.metrics()["test"]
    assert 0 <= test["class_match"] <= 1 and test["num_images"] == 400 and sum(test["class_histogram"]) == 400
    assert test["num_train_images"] + test["num_held_out_images"] == 1797  # the training split against the others
    assert test["frechet_ratio"] == pytest.approx(test["frechet_distance_at_floor_size"] / test["frechet_floor"])
    assert test["kid_interval"][0] <= test["kid"] <= test["kid_interval"][1] and "kid_floor" in test
    assert test["classifier"] == "cnn_digits" and test["classifier_sha256"] == pretrained_info("cnn_digits")["sha256"]
    card = folder.file("MODEL_CARD.md").read_text()
    assert "![Samples from fixed noise" in card and "class match **" in card and "mode collapse" in card
    assert "400 generated images against the" in card and "kernel inception distance" in card


@pytest.mark.slow  # the digits_run fixture trains and exports a GAN
def test_the_export_is_gated_on_the_judge_and_pixels_and_generator_matches_keras(digits_run):
    folder, _, _ = digits_run
    report = folder.report()
    rows = {row["file"]: row for row in report["files"]}
    assert set(rows) == {"model.keras", "model_float32.tflite", "model_int8.tflite"}
    assert all(rows[name]["gate"]["passed"] for name in ("model_float32.tflite", "model_int8.tflite")), report["failed"]
    assert rows["model_float32.tflite"]["top1_agreement"] == 1.0 and rows["model_float32.tflite"]["max_abs_diff"] < 1e-3
    assert report["agreement_examples"] == 500 and report["calibration_examples"] == 300
    model = load_keras_file(folder.model_path)
    labels = [3, 1, 4, 1, 5, 9, 2, 6]
    keras_images = model.generate(model.noise(8, seed=7), labels)
    for flavour, tolerance in (("float32", 1e-3), ("int8", 5.0)):
        generator = export.Generator(folder.export_dir / f"model_{flavour}.tflite")
        images = generator.generate(8, seed=7, labels=[str(label) for label in labels])
        assert images.shape == (8, 8, 8, 1) and images.min() >= 0 and images.max() <= 255
        assert np.abs(images - keras_images).mean() < tolerance, flavour
    assert json.loads((folder.export_dir / "model_int8.json").read_text())["generator"]["latent_dim"] == 100


@pytest.mark.slow  # the digits_run fixture trains and exports a GAN
def test_generator_and_predictor_refuse_what_they_cannot_run(digits_run):
    folder, _, _ = digits_run
    path = folder.export_dir / "model_float32.tflite"
    with pytest.raises(zoo.ZooError, match="one label per image .8., each a class id 0-9"):
        export.Generator(path).generate(8, labels=[1, 2])
    with pytest.raises(zoo.ZooError, match="num_images must be a positive int"):
        export.Generator(path).generate(0)
    with pytest.raises(zoo.ZooError, match=r"takes \[noise, labels\]"):
        export.Predictor(path).predict(np.zeros((1, 100)))
    # Predictor runs a generator file as any other (its task's side takes [noise, labels]): Generator's images.
    generator = export.Generator(path)
    noise, labels = generator.noise(2, seed=3), np.array([4, 7])
    np.testing.assert_allclose(export.Predictor(path).predict([noise, labels]), generator.generate(2, 3, [4, 7]))


@pytest.mark.slow  # the digits_run fixture trains and exports a GAN
def test_a_finished_run_is_not_trained_again(digits_run):
    folder, _, args = digits_run
    assert "has finished already" in run(generate.main, *args).stdout


@pytest.mark.parametrize(
    "flag, message",
    [
        ("--model=cnn", "'cnn' is a image_classification model, not a image_generation one: use one of"),
        ("--dataset=mr", "Image generation trains on mnist_5k, digits"),
        ("--optimizer=sgd", "Unknown command line flag 'optimizer'"),  # GANs: two Adams, only --learning_rate
    ],
)
def test_other_models_data_and_recipes_are_refused_in_one_line(tmp_path, flag, message):
    assert_one_line_error(run(generate.main, flag, f"--model_dir={tmp_path}/run", check=False), message)


def test_a_non_finite_generator_or_discriminator_loss_stops_training():
    model = zoo.create_model("dcgan", input_shape=(8, 8, 1))
    model.compile()  # its own two optimizers, none for Keras
    stop = StopOnNonFiniteLoss()
    stop.set_model(model)
    stop.on_epoch_begin(0)
    stop.on_train_batch_end(0, {"d_loss": 0.7, "g_loss": 0.7})
    with pytest.raises(zoo.ZooError, match="the g_loss became nan in epoch 1, batch 3. Nothing was saved"):
        stop.on_train_batch_end(2, {"d_loss": 0.7, "g_loss": float("nan")})


def test_the_shipped_generators_load_and_draw_the_classes_asked_for():
    model = zoo.create_model("conditional_dcgan", pretrained=True)
    entry = pretrained_info("conditional_dcgan")
    assert entry["task"] == "image_generation" and entry["test_quality"]["class_match"] >= 0.95
    for name in ("conditional_dcgan_mnist_5k", "dcgan_mnist_5k"):  # measured on 5,000 images, with KID and classes
        shipped = pretrained_info(name)["test_quality"]
        assert shipped["num_images"] >= 5000 and sum(shipped["class_histogram"]) == shipped["num_images"]
        assert shipped["kid_interval"][0] > shipped["kid_floor_interval"][1]  # both generators: worse than real
        assert shipped["classifier_sha256"] == pretrained_info("convnet_mnist_5k")["sha256"]  # today's judge
    labels = np.arange(100) % 10
    logits = quality.load_judge().features_and_logits(model.generate(model.noise(100, seed=5), labels))[1]
    assert quality.class_match(logits, labels) >= 0.9
    unconditional = zoo.load_pretrained("dcgan_mnist_5k")
    images = unconditional.generate(unconditional.noise(4))
    assert images.shape == (4, 28, 28, 1) and np.isfinite(images).all()


@pytest.mark.slow
def test_the_command_keeps_tensorflows_native_logs_out_of_the_terminal(tmp_path):
    """Training's "E0000 ... remapper failed" and evaluation's "E0000 ... NodeDef mentions attribute" went to
    the terminal."""
    model_dir = tmp_path / "run"
    command = [sys.executable, "-m", "zoo_apps.generate", "--dataset=digits", "--epochs=1", f"--model_dir={model_dir}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "Frechet distance" in result.stdout
    assert result.stderr == "", result.stderr
    assert (model_dir / "logs" / "native.log").is_file()  # where they go instead
