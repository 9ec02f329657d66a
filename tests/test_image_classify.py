"""End-to-end runs of `python -m zoo_apps.image_classify` on the tiny digits set."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

FAST = ["--dataset=digits", "--batch_size=64", "--learning_rate=0.003"]


def run_app(*args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "zoo_apps.image_classify", *args],
        capture_output=True, text=True, timeout=300,
    )
    if check and result.returncode:
        raise AssertionError(result.stderr[-3000:])
    return result


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "cnn_digits"
    run_app("--model=cnn", "--epochs=2", "--augment", f"--model_dir={model_dir}", *FAST)
    return model_dir


def test_run_writes_everything_into_model_dir(finished_run):
    names = set(os.listdir(finished_run))
    assert {
        "model.keras", "checkpoints", "logs", "history.csv", "labels.txt", "config.json",
        "metrics.json", "training_curves.png", "confusion_matrix.png",
    } <= names
    assert not [n for n in names if n.startswith(".tmp")]
    assert (finished_run / "labels.txt").read_text().split() == list("0123456789")
    config = json.loads((finished_run / "config.json").read_text())
    assert config["run"]["recipe"]["epochs"] == 2 and config["run"]["recipe"]["augment"]
    assert config["run"]["recipe"]["optimizer"] == "adamw"  # unset flags take the recipe
    assert {"tensorflow", "keras", "zoo"} <= set(config["versions"])
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.5  # 2 epochs on digits: well above chance (0.1)
    assert set(metrics["test"]["per_class"]) == set("0123456789")
    assert 0.5 < metrics["test"]["auc_ovr"] <= 1 and 0 < metrics["test"]["macro_f1"] <= 1
    assert metrics["num_parameters"] > 0 and metrics["examples_per_second"] > 0
    with open(finished_run / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]


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
    result = run_app("--model=cnn", "--epochs=2", "--augment", f"--model_dir={finished_run}", *FAST)
    assert "has finished already" in result.stderr
    assert (finished_run / "metrics.json").read_text() == before


def test_same_seed_gives_same_metrics(finished_run, tmp_path):
    run_app("--model=cnn", "--epochs=2", "--augment", f"--model_dir={tmp_path}/again", *FAST)
    first = json.loads((finished_run / "metrics.json").read_text())
    second = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert first["test"] == second["test"]


def test_killed_run_resumes_from_its_last_epoch(tmp_path):
    args = ["--model=cnn", "--epochs=40", f"--model_dir={tmp_path}", *FAST]
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo_apps.image_classify", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    checkpoint = tmp_path / "checkpoints" / "training_metadata.json"
    deadline = time.time() + 120
    while not (checkpoint.exists() and json.loads(checkpoint.read_text())["epoch"] >= 2):
        assert time.time() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "model.keras").exists()

    run_app(*args)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] >= 2
    assert metrics["epochs_run"] == 40 - metrics["resumed_from_epoch"]
    with open(tmp_path / "history.csv") as f:
        epochs = {int(row["epoch"]) for row in csv.DictReader(f)}
    assert epochs == set(range(40))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model=resnet2"], "Unknown model 'resnet2'. Did you mean resnet20"),
        (["--dataset=no_such_set"], "Unknown dataset 'no_such_set'"),
        (["--dataset=folder:/no/such/folder"], "does not exist"),
        (["--epochs=0"], "--epochs"),
        (["--optimizer=rmsprop"], "--optimizer"),
        (["extra_argument"], "unexpected arguments"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, message, tmp_path):
    result = run_app(f"--model_dir={tmp_path}/run", *args, check=False)
    assert result.returncode == 2
    # TensorFlow's native start-up lines may come first; ours is one line, last.
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert result.stderr.rstrip().endswith(errors[0]) and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_model_dir_of_another_run_is_refused(finished_run):
    result = run_app("--model=cnn", "--epochs=3", f"--model_dir={finished_run}", *FAST, check=False)
    assert result.returncode == 2
    assert "holds a run with other settings (recipe differ)" in result.stderr
