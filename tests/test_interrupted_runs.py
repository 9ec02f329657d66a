"""A run that was interrupted (Ctrl-C) or whose checkpoint was damaged: one line, and the same command goes on."""

import pathlib
import shutil
import signal
import subprocess
import sys

import keras
import pytest

from export.__main__ import cli as export_cli
from helpers import assert_one_line_error, run
from zoo.run_folder import RunFolder
from zoo_apps import image_classify, trainer

pytestmark = pytest.mark.slow  # real trainings

FAST = ["--model=cnn", "--dataset=digits", "--batch_size=128"]
INTERRUPTED = "interrupted (Ctrl-C), nothing half-written left: run the same command again to resume"


class Killed(Exception):
    pass


def temporaries(folder):
    return [path.name for path in pathlib.Path(folder).rglob("*") if path.name.startswith((".tmp-", ".old-"))]


def assert_interrupted(result, folder):
    assert result.code == 130, result
    assert result.error_lines == [f"error: {INTERRUPTED} (a training run resumes from its last finished epoch)."]
    assert "Traceback" not in result.stderr
    assert not temporaries(folder) and not (pathlib.Path(folder) / "run.lock").exists()


@pytest.fixture(scope="module")
def stopped_after_two_epochs(tmp_path_factory):
    """A 3-epoch run killed after its second epoch: checkpoints of epochs 1 and 2."""
    model_dir = tmp_path_factory.mktemp("stopped") / "run"
    calls = []

    def killed_after_second_epoch(self, epoch, logs=None):
        calls.append(epoch)
        if epoch == 1:
            raise Killed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trainer.Progress, "on_epoch_end", killed_after_second_epoch)
        patch.setattr(trainer, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint after every epoch, not every 10 s
        with pytest.raises(Killed):
            run(image_classify.main, *FAST, "--epochs=3", f"--model_dir={model_dir}")
    names = sorted(path.name for path in (model_dir / "checkpoints").iterdir())
    assert names == [
        "epoch_1.json",
        "epoch_1.weights.h5",
        "epoch_2.json",
        "epoch_2.weights.h5",
        "training_metadata.json",
    ]
    return model_dir


def resumed(stopped, tmp_path, damage):
    """Copies the stopped run, damages its checkpoints with `damage(checkpoints folder)`, runs the command again."""
    model_dir = tmp_path / "run"
    shutil.copytree(stopped, model_dir)
    damage(model_dir / "checkpoints")
    return model_dir, run(image_classify.main, *FAST, "--epochs=3", f"--model_dir={model_dir}", check=False)


def truncate(path):
    path.write_bytes(path.read_bytes()[:1000])


def test_a_truncated_weights_file_falls_back_to_the_previous_epoch(stopped_after_two_epochs, tmp_path):
    model_dir, result = resumed(
        stopped_after_two_epochs, tmp_path, lambda folder: truncate(folder / "epoch_2.weights.h5")
    )
    assert result.code == 0, result.stderr
    damaged = model_dir / "checkpoints" / "epoch_2.weights.h5"
    assert result.stderr.splitlines()[0] == (
        f"warning: {damaged} is damaged (empty, truncated or unreadable): "
        "resuming from the intact checkpoint of epoch 1."
    )
    assert RunFolder(model_dir).metrics()["resumed_from_epoch"] == 1
    assert [row["epoch"] for row in RunFolder(model_dir).history()] == [0, 1, 2]


def test_an_empty_training_metadata_falls_back_to_the_epochs_own(stopped_after_two_epochs, tmp_path):
    model_dir, result = resumed(
        stopped_after_two_epochs, tmp_path, lambda folder: (folder / "training_metadata.json").write_text("")
    )
    assert result.code == 0, result.stderr
    assert "training_metadata.json is damaged" in result.stderr and "of epoch 2." in result.stderr
    assert RunFolder(model_dir).metrics()["resumed_from_epoch"] == 2


def damage_everything(folder):
    (folder / "training_metadata.json").write_text("")
    for path in folder.glob("epoch_*.weights.h5"):
        truncate(path)


@pytest.mark.parametrize(
    "damage, named",
    [
        (damage_everything, "training_metadata.json"),
        (lambda folder: [truncate(path) for path in folder.glob("epoch_*.weights.h5")], "epoch_2.weights.h5"),
    ],
    ids=["metadata and weights", "weights"],
)
def test_no_intact_checkpoint_is_one_line_naming_the_file_and_how_to_start_over(
    stopped_after_two_epochs, tmp_path, damage, named
):
    model_dir, result = resumed(stopped_after_two_epochs, tmp_path, damage)
    checkpoints = model_dir / "checkpoints"
    assert_one_line_error(
        result,
        f"The run's checkpoint {checkpoints / named} is damaged (empty, truncated or unreadable) and no earlier one "
        f"is intact: delete {checkpoints} and run the same command to train this run again from epoch 1, "
        "or pass a new --model_dir.",
    )
    assert not (model_dir / "model.keras").exists()
    shutil.rmtree(checkpoints)  # as the error says
    assert run(image_classify.main, *FAST, "--epochs=3", f"--model_dir={model_dir}").value["epochs_run"] == 3


def test_ctrl_c_during_training_is_one_line_and_the_same_command_resumes(tmp_path, monkeypatch):
    model_dir = tmp_path / "run"
    args = [*FAST, "--epochs=2", f"--model_dir={model_dir}"]

    def interrupted(self, epoch, logs=None):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(trainer.Progress, "on_epoch_end", interrupted)
        result = run(image_classify.main, *args, check=False)
    assert_interrupted(result, model_dir)
    assert not (model_dir / "model.keras").exists() and not (model_dir / "metrics.json").exists()
    assert run(image_classify.main, *args).value["resumed_from_epoch"] == 1


def test_ctrl_c_during_export_leaves_no_half_written_file(tmp_path, monkeypatch):
    model_dir = tmp_path / "run"
    run(image_classify.main, *FAST, "--epochs=1", f"--model_dir={model_dir}")
    archive = type(keras.export.ExportArchive())  # the backend's class
    write_out = archive.write_out

    def interrupted_while_writing(self, path, *args, **kwargs):
        write_out(self, path, *args, **kwargs)  # the SavedModel folder is written under its temporary name...
        raise KeyboardInterrupt  # ...when Ctrl-C comes

    with monkeypatch.context() as patch:
        patch.setattr(archive, "write_out", interrupted_while_writing)
        result = run(export_cli, f"--model_dir={model_dir}", "--formats=saved_model", check=False)
    assert_interrupted(result, model_dir)
    assert sorted(path.name for path in (model_dir / "export").iterdir()) == ["export.log"]
    report = run(export_cli, f"--model_dir={model_dir}", "--formats=saved_model").value
    assert "saved_model" in [row["file"] for row in report["files"]]


def test_ctrl_c_in_a_terminal_ends_the_command_with_one_line(tmp_path):
    """A real SIGINT to `python -m zoo_apps.image_classify` in its second epoch."""
    model_dir = tmp_path / "run"
    command = [sys.executable, "-m", "zoo_apps.image_classify", *FAST, "--epochs=500", f"--model_dir={model_dir}"]
    # As from a terminal: SIGINT at its default (a parent that ignores it, as a test worker may, would hand the
    # child an ignored SIGINT, and Python installs its Ctrl-C handler only where SIGINT is not ignored).
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    ) as process:
        for line in process.stdout:
            if line.startswith("epoch 1/500"):
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr == f"error: {INTERRUPTED} (a training run resumes from its last finished epoch).\n"
    assert not temporaries(model_dir) and not (model_dir / "run.lock").exists()
    assert not (model_dir / "model.keras").exists() and (model_dir / "checkpoints" / "training_metadata.json").is_file()
