"""The image_classify app end to end on the tiny digits set, in this process."""

import csv
import json
import os
import subprocess
import sys

import pytest

from helpers import assert_one_line_error, run
from zoo_apps import image_classify

FAST = ["--dataset=digits", "--batch_size=64", "--learning_rate=0.003"]


def train(*args, check=True):
    return run(image_classify.main, *args, check=check)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "cnn_digits"
    train("--model=cnn", "--epochs=2", "--augment", f"--model_dir={model_dir}", *FAST)
    return model_dir


def test_run_writes_everything_into_model_dir(finished_run):
    names = set(os.listdir(finished_run))
    assert {
        "model.keras",
        "checkpoints",
        "logs",
        "history.csv",
        "labels.txt",
        "config.json",
        "metrics.json",
        "training_curves.png",
        "confusion_matrix.png",
        "MODEL_CARD.md",
    } <= names
    assert not [n for n in names if n.startswith(".tmp") or n == "run.lock"]
    assert (finished_run / "labels.txt").read_text().split() == list("0123456789")
    config = json.loads((finished_run / "config.json").read_text())
    assert config["run"]["task"] == "image_classification" and config["run"]["options"] == {}
    assert config["run"]["recipe"]["epochs"] == 2 and config["run"]["recipe"]["augment"]
    assert config["run"]["recipe"]["optimizer"] == "adamw"  # unset flags take the recipe
    assert len(config["data"]["digest"]) == 64
    assert {"tensorflow", "keras", "zoo"} <= set(config["versions"])
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.5  # 2 epochs on digits: well above chance (0.1)
    low, high = metrics["test"]["accuracy_interval"]
    assert low < metrics["test"]["accuracy"] < high
    assert set(metrics["test"]["per_class"]) == set("0123456789")
    assert 0.5 < metrics["test"]["auc_ovr"] <= 1 and 0 < metrics["test"]["macro_f1"] <= 1
    assert metrics["num_parameters"] > 0 and metrics["examples_per_second"] > 0
    with open(finished_run / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]


def test_card_shows_attributions_of_right_and_wrong_test_digits(finished_run):
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert ["attributions.png", "Integrated Gradients on test examples it got right and wrong"] in metrics["plots"]
    assert (finished_run / "attributions.png").stat().st_size > 10_000
    assert "![Integrated Gradients on test examples" in (finished_run / "MODEL_CARD.md").read_text()


@pytest.mark.slow
def test_model_keras_loads_in_a_fresh_process_with_only_keras_and_zoo(finished_run):
    metrics = json.loads((finished_run / "metrics.json").read_text())
    code = f"""
import keras, numpy as np, zoo
from zoo.datasets import load_image_dataset
model = keras.saving.load_model({str(finished_run / "model.keras")!r})
splits = load_image_dataset("digits")
x, y = zip(*splits.test.as_numpy_iterator())
print(float((model.predict(np.stack(x), verbose=0).argmax(1) == np.array(y)).mean()))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout.split()[-1]) == pytest.approx(metrics["test"]["accuracy"])


def test_rerunning_a_finished_run_keeps_its_results(finished_run):
    before = (finished_run / "metrics.json").read_text()
    result = train("--model=cnn", "--epochs=2", "--augment", f"--model_dir={finished_run}", *FAST)
    assert "has finished already" in result.stdout
    assert (finished_run / "metrics.json").read_text() == before


@pytest.mark.slow
def test_same_seed_gives_same_metrics(finished_run, tmp_path):
    train("--model=cnn", "--epochs=2", "--augment", f"--model_dir={tmp_path}/again", *FAST)
    first = json.loads((finished_run / "metrics.json").read_text())
    second = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert first["test"] == second["test"]


@pytest.mark.slow
def test_steps_per_execution_changes_the_speed_not_the_training(tmp_path):
    """Steps a call of the compiled step (cnn's recipe: 32): the same epochs, weights and scores as one a call."""
    runs = {}
    for steps in (1, 8):  # 1,437 training digits in batches of 60: 24 steps an epoch
        runs[steps] = tmp_path / str(steps)
        args = ("--model=cnn", "--epochs=2", "--augment", f"--steps_per_execution={steps}", *FAST, "--batch_size=60")
        train(*args, f"--model_dir={runs[steps]}")
    configs = [json.loads((folder / "config.json").read_text()) for folder in runs.values()]
    assert [c["run"]["recipe"]["steps_per_execution"] for c in configs] == [1, 8]
    histories = [(folder / "history.csv").read_text() for folder in runs.values()]
    assert histories[0] == histories[1]
    first, second = (json.loads((folder / "metrics.json").read_text())["test"] for folder in runs.values())
    assert first["confusion_matrix"] == second["confusion_matrix"]


def test_steps_per_execution_is_cut_to_a_divisor_of_the_epoch():
    from zoo_apps.trainer import steps_per_call

    assert steps_per_call(32, 32) == 32 and steps_per_call(32, 64) == 32  # mnist_5k's 4,000 digits in 128s: 32
    assert steps_per_call(32, 23) == 23 and steps_per_call(16, 23) == 1 and steps_per_call(16, 24) == 12
    assert steps_per_call(None, 10) == 1 and steps_per_call(8, 0) == 1


@pytest.mark.slow
def test_progress_shows_epoch_of_total_and_time_left(finished_run, tmp_path):
    result = train("--model=cnn", "--epochs=2", f"--model_dir={tmp_path}/progress", *FAST)
    assert "epoch 1/2:" in result.stdout and "s left" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model=resnet2"], "Unknown model 'resnet2'. Did you mean resnet20"),
        (["--model=textcnn"], "'textcnn' is a text_classification model, not a image_classification one"),
        (["--dataset=no_such_set"], "Unknown dataset 'no_such_set'"),
        (["--dataset=folder:/no/such/folder"], "does not exist"),
        (["--epochs=0"], "--epochs"),
        (["--optimizer=rmsprop"], "--optimizer"),
        (["--export=int4"], "Unknown export formats"),
        (["--image_size=abc"], "--image_size takes HEIGHT,WIDTH"),
        (["--image_size=28"], "--image_size takes two numbers"),
        (["--image_size=28,28"], "digits has a fixed image size"),
        (["--model=lenet5"], "lenet5 needs images of at least 16x16 pixels"),
        (["extra_argument"], "unexpected arguments"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, message, tmp_path):
    result = train(f"--model_dir={tmp_path}/run", *FAST, *args, check=False)
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()


def test_model_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    assert_one_line_error(train(f"--model_dir={tmp_path}/file", *FAST, check=False), "is not a folder")
    assert_one_line_error(train(f"--model_dir={tmp_path}/file/run", *FAST, check=False), "is not a folder")


def test_model_dir_of_another_run_is_refused(finished_run):
    result = train("--model=cnn", "--epochs=3", f"--model_dir={finished_run}", *FAST, check=False)
    assert_one_line_error(result, "holds a run with other settings (--epochs 2 there, 3 now)")


def test_help_lists_the_apps_flags_and_not_tensorflows():
    text = train("--help").stdout
    for flag in ("--model=", "--dataset=", "--epochs=", "--image_size=", "--export=", "--seed="):
        assert flag in text
    assert "mnist_5k" in text and "--xla_" not in text and "--tfds" not in text and len(text.splitlines()) < 60


@pytest.mark.slow
@pytest.mark.parametrize("module", ["zoo_apps.image_classify", "export"])
def test_a_command_line_keeps_native_start_up_logs_out_of_the_terminal(module):
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--model" in result.stdout
    assert result.stderr == "", result.stderr  # cudart_stub, cuInit, cpu_feature_guard: in zoo.quiet.STARTUP_LOG
