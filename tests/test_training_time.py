"""Where training time goes: the time left printed after each epoch, how often checkpoints are written."""

import re

import pytest

from zoo_apps import trainer


def test_one_epoch_counts_without_its_first_batches():
    # 60 s, of which 50 s went to the first training and validation batches (tracing): 10 s an epoch.
    assert trainer.seconds_left([60.0], 9, warmup_seconds=50.0) == pytest.approx(90.0)


def test_later_epochs_leave_the_first_one_out():
    assert trainer.seconds_left([60.0, 10.0, 12.0], 5, warmup_seconds=50.0) == pytest.approx(55.0)
    assert trainer.seconds_left([60.0, 10.0], 0) == 0.0


def test_warmup_longer_than_the_epoch_gives_no_negative_estimate():
    assert trainer.seconds_left([5.0], 3, warmup_seconds=6.0) == 0.0


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run_epoch(progress, clock, epoch, train_batches, test_batches):
    """Drives the callback through one epoch as `fit` does; each list holds its batches' seconds."""
    progress.on_epoch_begin(epoch)
    for batch, seconds in enumerate(train_batches):
        progress.on_train_batch_begin(batch)
        clock.now += seconds
    progress.on_test_begin()
    for batch, seconds in enumerate(test_batches):
        progress.on_test_batch_begin(batch)
        clock.now += seconds
    progress.on_test_end()
    progress.on_epoch_end(epoch, {"loss": 1.0})


def test_progress_estimates_from_the_steady_epochs(monkeypatch, capsys):
    """A first epoch of 40 s (30 s tracing the training step, 5 s the validation step) then 5 s epochs:
    10 epochs take 85 s, and each line says about what is left (the old estimate said 360 s after epoch 1)."""
    clock = Clock()
    monkeypatch.setattr(trainer.time, "perf_counter", clock)
    progress = trainer.Progress(epochs=10)
    progress.on_train_begin()
    run_epoch(progress, clock, 0, [30.0, 1.0, 1.0, 1.0, 1.0], [5.0, 1.0])
    for epoch in range(1, 10):
        run_epoch(progress, clock, epoch, [1.0] * 4, [0.5, 0.5])
    lines = capsys.readouterr().out.splitlines()
    left = [int(re.search(r"about (\d+) s left", line).group(1)) for line in lines]
    assert left == [5 * (9 - epoch) for epoch in range(10)]
    assert lines[0].startswith("epoch 1/10: loss 1.0000; 40 s") and lines[-1].startswith("epoch 10/10")


def test_checkpoints_are_written_after_the_first_and_last_epoch_and_at_most_every_min_seconds(tmp_path, monkeypatch):
    clock, saved = Clock(), []
    monkeypatch.setattr(trainer.time, "perf_counter", clock)
    monkeypatch.setattr(trainer.AtomicBackupAndRestore, "_save_model", lambda self: saved.append(self._current_epoch))
    backup = trainer.AtomicBackupAndRestore(str(tmp_path), min_seconds=10.0)
    backup.set_params({"epochs": 12})
    for epoch in range(12):  # 3 s an epoch
        clock.now += 3.0
        backup.on_epoch_end(epoch)
    assert saved == [1, 5, 9, 12]  # epoch 1; epoch 5, 12 s after; epoch 9; the last
    every_epoch = trainer.AtomicBackupAndRestore(str(tmp_path), min_seconds=0.0)
    every_epoch.set_params({"epochs": 3})
    saved.clear()
    for epoch in range(3):
        every_epoch.on_epoch_end(epoch)
    assert saved == [1, 2, 3]
