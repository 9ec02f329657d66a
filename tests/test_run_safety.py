"""What keeps a run folder sound: one writer at a time, no NaN results, resumes only on the same data."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from helpers import assert_one_line_error, run
from zoo.run_folder import RunFolder, load_keras_file
from zoo_apps import image_classify, trainer

FAST = ["--model=cnn", "--dataset=digits", "--epochs=1", "--batch_size=128"]


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


def write_pngs(root, count=12, size=8):
    rng = np.random.default_rng(0)
    for value, name in ((10, "dark"), (240, "light")):
        (root / name).mkdir(parents=True)
        for i in range(count):
            image = np.clip(rng.normal(value, 20, (size, size, 1)), 0, 255).astype(np.uint8)
            tf.io.write_file(str(root / name / f"{i}.png"), tf.io.encode_png(image))


def test_a_run_refuses_to_resume_on_changed_data(tmp_path):
    write_pngs(tmp_path / "data")
    args = ["--model=cnn", f"--dataset=folder:{tmp_path / 'data'}", "--epochs=1", f"--model_dir={tmp_path}/run"]
    run(image_classify.main, *args)
    (tmp_path / "data" / "dark" / "0.png").unlink()
    result = run(image_classify.main, *args, check=False)
    assert_one_line_error(result, "holds a run with other settings (data (examples or their split) differ)")


class Killed(Exception):
    pass


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
