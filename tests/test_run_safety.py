"""What keeps a run folder sound: one writer at a time, no NaN results, resumes only on the same data."""

import errno
import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import assert_one_line_error, run, write_pngs
from zoo import memory
from zoo.run_folder import RunFolder, load_keras_file
from zoo_apps import image_classify, trainer

FAST = ["--model=cnn", "--dataset=digits", "--epochs=1", "--batch_size=128"]


@pytest.mark.slow
def test_a_second_process_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path):
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        (model_dir / "run.lock").write_text(str(other.pid))
        result = run(image_classify.main, *FAST, f"--model_dir={model_dir}", check=False)
        assert_one_line_error(result, f"is in use by another run (pid {other.pid})")
        other.kill()
    assert not (model_dir / "config.json").exists()
    run(image_classify.main, *FAST, f"--model_dir={model_dir}")  # the dead process's lock is taken over
    assert RunFolder(model_dir).is_finished() and not (model_dir / "run.lock").exists()


def test_a_diverging_run_stops_at_the_first_nan_and_saves_no_model(tmp_path):
    args = [*FAST, "--learning_rate=1e12", "--optimizer=sgd", f"--model_dir={tmp_path}/run"]
    for _ in range(2):  # and a re-run says the same, instead of crashing on what the first left
        result = run(image_classify.main, *args, check=False)
        assert_one_line_error(result, "Training diverged: the loss became nan in epoch 1")
        assert "try a lower --learning_rate" in result.error_lines[0]
    assert not (tmp_path / "run" / "model.keras").exists() and not (tmp_path / "run" / "metrics.json").exists()


def test_a_history_that_cannot_be_parsed_does_not_block_a_run(tmp_path):
    (tmp_path / "history.csv").write_text(
        "epoch,accuracy,loss\n0,0.5,1.0\nepoch,accuracy,loss\n1,0.6,0.9\n2,0.7\x00,\n3,0.8,0.7"
    )
    assert [row["epoch"] for row in RunFolder(tmp_path).history()] == [0, 1, 3]


@pytest.mark.slow
def test_a_run_refuses_to_resume_on_changed_data(tmp_path):
    write_pngs(tmp_path / "data")
    args = ["--model=cnn", f"--dataset=folder:{tmp_path / 'data'}", "--epochs=1", f"--model_dir={tmp_path}/run"]
    run(image_classify.main, *args)
    (tmp_path / "data" / "dark" / "0.png").unlink()
    result = run(image_classify.main, *args, check=False)
    assert_one_line_error(result, "holds a run with other settings (the data: other examples, or another split)")


class Killed(Exception):
    pass


@pytest.mark.slow
def test_a_killed_and_resumed_run_ends_exactly_like_an_uninterrupted_one(tmp_path, monkeypatch):
    """Shuffle order, augmentation, Dropout's random stream and the optimizer all carry over a kill."""
    write_pngs(tmp_path / "data", count=40, size=12)
    args = ["--model=convnet", f"--dataset=folder:{tmp_path / 'data'}", "--epochs=3", "--batch_size=16"]
    run(image_classify.main, *args, f"--model_dir={tmp_path}/straight")

    def killed_after_first_epoch(self, epoch, logs=None):
        raise Killed  # after the checkpoint of epoch 1 is written

    with monkeypatch.context() as patch:
        patch.setattr(trainer.Progress, "on_epoch_end", killed_after_first_epoch)
        with pytest.raises(Killed):
            run(image_classify.main, *args, f"--model_dir={tmp_path}/resumed")
    run(image_classify.main, *args, f"--model_dir={tmp_path}/resumed")

    straight, resumed = RunFolder(tmp_path / "straight"), RunFolder(tmp_path / "resumed")
    assert resumed.metrics()["resumed_from_epoch"] == 1
    assert json.loads((resumed.path / "checkpoints" / "training_metadata.json").read_text())["random_states"]
    for key in ("test", "validation_accuracy"):
        assert resumed.metrics()[key] == straight.metrics()[key]
    weights = [load_keras_file(folder.model_path).get_weights() for folder in (straight, resumed)]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device", "model.weights.h5"),  # what Python and h5py raise
        tf.errors.ResourceExhaustedError(None, None, "model.keras; No space left on device"),  # TensorFlow's file ops
    ],
)
def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(tmp_path, monkeypatch, error):
    def full_disk(self, path, *args, **kwargs):
        pathlib.Path(path).write_bytes(b"half")  # what a writer leaves before the disk fills up
        raise error

    args = [*FAST, "--epochs=2", f"--model_dir={tmp_path}/run"]
    with monkeypatch.context() as patch:
        patch.setattr(keras.Model, "save_weights", full_disk)
        result = run(image_classify.main, *args, check=False)
    assert_one_line_error(result, "No space left on the disk")
    assert "free some space, or use a --model_dir on another disk" in result.error_lines[0]
    assert not [path.name for path in (tmp_path / "run").rglob("*") if path.name.startswith(".tmp-")]
    assert run(image_classify.main, *args).value["epochs_run"] == 2  # with space again, the same command works


def test_an_image_size_too_large_for_memory_is_one_line_before_anything_is_written(tmp_path, monkeypatch):
    write_pngs(tmp_path / "data")
    monkeypatch.setattr(memory, "memory_bytes", lambda: 2**29)
    args = [
        "--model=cnn",
        f"--dataset=folder:{tmp_path / 'data'}",
        "--image_size=2048,2048",
        f"--model_dir={tmp_path}/run",
    ]
    result = run(image_classify.main, *args, check=False)
    assert_one_line_error(result, "24 images of 2048x2048x1 take 0.4 GiB as float32, more than half of this machine's")
    assert "pass a smaller --image_size" in result.error_lines[0]
    assert not (tmp_path / "run").exists()


def test_a_batch_too_large_for_memory_is_one_line_before_anything_is_written(tmp_path):
    """24 images of 2048x2048 fit in memory; a batch of 64 through the cnn (about 0.5 GB of activations
    per image, and 2 billion weights after its flatten) does not. Found without allocating the weights."""
    write_pngs(tmp_path / "data")
    args = [
        "--model=cnn",
        f"--dataset=folder:{tmp_path / 'data'}",
        "--image_size=2048,2048",
        f"--model_dir={tmp_path}/run",
    ]
    result = run(image_classify.main, *args, "--batch_size=64", check=False)
    assert_one_line_error(result, "Training cnn on batches of 64 inputs of 2048x2048x1 needs about")
    assert "pass a smaller --batch_size or --image_size" in result.error_lines[0]
    assert not (tmp_path / "run").exists()
