"""Multi-worker training on loopback, resume after a killed worker, strategy errors, mixed precision."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from helpers import assert_one_line_error, run
from zoo_apps import distribute, image_classify

LAUNCHER = os.path.join(os.path.dirname(__file__), "..", "scripts", "launch_local_cluster.py")


def cluster_command(model_dir, log_dir, epochs):
    return [
        sys.executable,
        LAUNCHER,
        "--num_workers=2",
        f"--worker_log_dir={log_dir}",
        "--",
        "-m",
        "zoo_apps.image_classify",
        "--model=cnn",
        "--dataset=digits",
        f"--epochs={epochs}",
        "--batch_size=128",
        "--strategy=multi_worker",
        f"--model_dir={model_dir}",
    ]


def checksum(text):
    return re.findall(r"final weights checksum ([\d.]+)", text)


@pytest.mark.slow
def test_two_workers_train_in_sync_and_only_the_chief_writes(tmp_path):
    model_dir, log_dir = tmp_path / "run", tmp_path / "logs"
    result = subprocess.run(cluster_command(model_dir, log_dir, epochs=2), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"model.keras", "metrics.json", "history.csv"} <= set(os.listdir(model_dir))
    config = json.loads((model_dir / "config.json").read_text())
    assert config["strategy"] == {"name": "multi_worker", "replicas": 2}
    assert os.listdir(log_dir) == ["worker_1.log"]  # the worker wrote nothing else
    chief, worker = checksum(result.stderr), checksum((log_dir / "worker_1.log").read_text())
    assert len(chief) == len(worker) == 1 and chief == worker


def worker_pid(launcher_pid, index):
    for child in subprocess.run(["pgrep", "-P", str(launcher_pid)], capture_output=True, text=True).stdout.split():
        with open(f"/proc/{child}/environ", "rb") as f:
            if f'"index": {index}}}'.encode() in f.read():
                return int(child)
    return None


@pytest.mark.slow
def test_restarted_cluster_resumes_after_a_worker_is_killed(tmp_path):
    model_dir, log_dir = tmp_path / "run", tmp_path / "logs"
    command = cluster_command(model_dir, log_dir, epochs=12)
    launcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = model_dir / "checkpoints" / "training_metadata.json"
    deadline = time.time() + 180
    while not (checkpoint.exists() and json.loads(checkpoint.read_text())["epoch"] >= 1):
        assert time.time() < deadline and launcher.poll() is None
        time.sleep(0.05)
    os.kill(worker_pid(launcher.pid, 1), signal.SIGKILL)
    assert launcher.wait(timeout=120) != 0  # the launcher stops the cluster
    assert not (model_dir / "metrics.json").exists()

    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] >= 1
    assert metrics["epochs_run"] == 12 - metrics["resumed_from_epoch"]


@pytest.mark.parametrize(
    "tf_config, strategy, message",
    [
        ("{not json", "multi_worker", "TF_CONFIG is not a valid cluster description"),
        (
            '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}',
            "multi_worker",
            "TF_CONFIG is not a valid cluster description",
        ),
        (None, "multi_worker", "needs TF_CONFIG"),
        (None, "parameter_servers", "--strategy"),
    ],
)
def test_strategy_errors_are_one_line(tf_config, strategy, message, tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    result = run(image_classify.main, f"--strategy={strategy}", f"--model_dir={tmp_path}/run", check=False)
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_mixed_precision_keeps_weights_and_logits_in_float32():
    expected = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    try:
        assert distribute.set_mixed_precision(True) == expected
        model = zoo.create_model("cnn", 10, (8, 8, 1))
        assert model.get_layer("conv").compute_dtype == expected.removeprefix("mixed_")
        assert all(w.dtype == "float32" for w in model.weights)
        logits = model(np.zeros((2, 8, 8, 1), "float32"))
        assert logits.dtype == "float32"
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        assert np.isfinite(model.train_on_batch(np.ones((2, 8, 8, 1)) * 100, np.array([1, 2])))
    finally:
        assert distribute.set_mixed_precision(False) == "float32"
