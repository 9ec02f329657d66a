"""Where training time goes: the time left printed after each epoch, how often checkpoints are written."""

import re

import pytest

from zoo_apps import trainer


def test_one_epoch_counts_without_its_warmup():
    # 60 s, of which 50 s went to tracing: 10 s an epoch.
    assert trainer.seconds_left([60.0], 9, warmup=50.0) == pytest.approx(90.0)


def test_later_epochs_leave_the_first_one_out():
    assert trainer.seconds_left([60.0, 10.0, 12.0], 5, warmup=50.0) == pytest.approx(55.0)
    assert trainer.seconds_left([60.0, 10.0], 0) == 0.0


def test_warmup_longer_than_the_epoch_gives_no_negative_estimate():
    assert trainer.seconds_left([5.0], 3, warmup=6.0) == 0.0


def test_warmup_is_the_first_and_last_batch_beyond_the_steady_pace():
    assert trainer.warmup_seconds([30.0, 1.0, 2.0, 1.0, 6.0]) == pytest.approx(29.0 + 5.0)  # trace, retrace
    assert trainer.warmup_seconds([30.0, 1.0, 1.0, 0.5]) == pytest.approx(29.0)  # a smaller, faster last batch
    assert trainer.warmup_seconds([5.0, 1.0]) == pytest.approx(4.0)
    assert trainer.warmup_seconds([5.0]) == trainer.warmup_seconds([]) == 0.0  # nothing to compare with


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
    """Epochs of 5 training and 3 validation batches of 1 s; the first epoch traces both steps (29 s and
    4 s more for their first batch) and retraces them for their last, smaller batch (5 s and 2 s more): it
    takes 48 s, and each line says what is left (the estimate from the whole first epoch said 432 s)."""
    clock = Clock()
    monkeypatch.setattr(trainer.time, "perf_counter", clock)
    progress = trainer.Progress(epochs=10)
    progress.on_train_begin()
    run_epoch(progress, clock, 0, [30.0, 1.0, 1.0, 1.0, 6.0], [5.0, 1.0, 3.0])
    for epoch in range(1, 10):
        run_epoch(progress, clock, epoch, [1.0] * 5, [1.0] * 3)
    lines = capsys.readouterr().out.splitlines()
    left = [int(re.search(r"about (\d+) s left", line).group(1)) for line in lines]
    assert left == [8 * (9 - epoch) for epoch in range(10)]
    assert lines[0].startswith("epoch 1/10: loss 1.0000; 48 s") and lines[-1].startswith("epoch 10/10")


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
