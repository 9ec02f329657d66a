"""One training run in one folder: claim it, train with resume, evaluate, describe."""

import contextlib
import os
import pathlib
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

import zoo
from export.run import export_run
from zoo import plots
from zoo.card import write_model_card
from zoo.files import process_alive
from zoo.run_folder import RunFolder
from zoo.versions import library_versions
from zoo_apps import distribute, trainer

LOCK = "run.lock"


def make_deterministic(seed):
    """Seeds Python, NumPy and TensorFlow, and makes TensorFlow's ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def weights_checksum(model):
    """A number that differs between workers whose weights are out of sync."""
    return float(sum(np.abs(w).sum(dtype=np.float64) for w in model.get_weights()))


def claim_model_dir(path):
    """Returns the `RunFolder` at `path` after checking, before anything is written, that a run can go there."""
    path = pathlib.Path(path).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise zoo.ZooError(f"--model_dir {path} is not a folder ({existing} is a file): pass a folder path.")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise zoo.ZooError(f"--model_dir {path} cannot be written ({existing} is read-only): pass a writable folder.")
    try:  # what access() cannot tell (root, /proc, /sys, read-only mounts): make a folder there, and remove it
        tempfile.TemporaryDirectory(dir=existing, prefix=".zoo-probe-").cleanup()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise zoo.ZooError(
            f"--model_dir {path} cannot be written (making a folder in {existing} fails: {reason}): "
            "pass a writable folder."
        ) from None
    return RunFolder(path)


def _pid_of(lock):
    try:
        return int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


@contextlib.contextmanager
def run_lock(folder):
    """Holds `run.lock` in the run folder: a second process is refused, a dead one's lock is taken over."""
    folder.path.mkdir(parents=True, exist_ok=True)
    lock = folder.file(LOCK)
    for _ in range(2):
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            pid = _pid_of(lock)
            if pid and pid != os.getpid() and process_alive(pid):
                raise zoo.ZooError(
                    f"{folder.path} is in use by another run (pid {pid}): wait for it, or pass another --model_dir."
                ) from None
            lock.unlink(missing_ok=True)  # left by a process that died
    else:
        raise zoo.ZooError(f"Cannot take {lock}: another run is starting there; try again.")
    with os.fdopen(descriptor, "w") as f:
        f.write(str(os.getpid()))
    try:
        yield folder
    finally:
        lock.unlink(missing_ok=True)


def _shown(value):
    return "unset" if value is None else ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def differences(previous, current, top=True):
    """`--flag X there, Y now` for each run setting that differs (options and recipe keys are flag names)."""
    changed = []
    for key in sorted(set(previous) | set(current)):
        old, new = previous.get(key), current.get(key)
        if old == new:
            continue
        if key in ("options", "recipe") and isinstance(old, dict) and isinstance(new, dict):
            changed += differences(old, new, top=False)
        else:
            name = "the task (app)" if top and key == "task" else f"--{key}"
            changed.append(f"{name} {_shown(old)} there, {_shown(new)} now")
    return changed


def prepare_model_dir(folder, config):
    """Writes config.json into a new run folder, or checks that the folder holds the same run.

    Returns True if the run there has already finished.
    """
    if folder.exists():
        previous = folder.config()
        changed = differences(previous["run"], config["run"])
        if previous.get("data", {}).get("digest") != config["data"]["digest"]:
            changed.append("the data: other examples, or another split")
        if changed:
            raise zoo.ZooError(
                f"{folder.path} holds a run with other settings ({'; '.join(changed)}): "
                "pass a new --model_dir, or delete that folder to start over."
            )
        return folder.is_finished()
    if any(p.name != LOCK for p in folder.path.iterdir()):
        raise zoo.ZooError(f"{folder.path} is not empty and holds no zoo run: pass a new --model_dir.")
    folder.write_config(config)
    return False


def train_and_evaluate(task, model, splits, run, folder):
    """Trains `model` on `splits` as `run` says, writing everything into the `RunFolder` `folder`.

    Call it inside the strategy's scope. Under a multi-worker strategy every
    worker trains; only the chief writes files and evaluates.

    Returns:
        The metrics dict also written to `metrics.json` (None on other workers).
    """
    config = dict(
        run=run,
        input_shape=list(splits.input_shape),
        class_names=splits.class_names,
        data=dict(digest=splits.digest, **splits.notes),
        strategy=distribute.describe(tf.distribute.get_strategy()),
        versions=library_versions(),
    )
    chief = distribute.is_chief()
    with run_lock(folder) if chief else contextlib.nullcontext():
        if prepare_model_dir(folder, config) if chief else folder.is_finished():
            print(f"The run in {folder.path} has finished already; its results stand.")
            return folder.metrics()
        if chief and splits.class_names:
            folder.write_labels(splits.class_names)
        timing = trainer.fit(task, model, splits, run["recipe"], folder, run["seed"], chief, run.get("adversarial"))
        trainer.save(model.save, folder.model_path, chief)
        if distribute.cluster_spec():  # lets a multi-worker run check that its workers stayed in sync
            print(f"final weights checksum {weights_checksum(model):.6f}", file=sys.stderr, flush=True)
        if not chief:
            return None
        with trainer.native_logs(folder):
            metrics, outputs = task.evaluate(model, splits)
            plots.plot_history(folder.history(), folder.file("training_curves.png"), task.history_metrics)
            figures = [("training_curves.png", "Training curves")] + task.write_plots(folder, outputs)
        metrics = dict(
            model=run["model"],
            dataset=run["dataset"],
            **metrics,
            num_parameters=int(model.count_params()),
            **timing,
            plots=figures,
        )
        folder.write_metrics(metrics)
        write_model_card(folder.path)
    print(f"{task.headline(metrics)}; wrote {folder.path}")
    return metrics


def export_and_describe(folder, formats, data_dir=None):
    """On the chief: exports the finished run with `export.export_run`, then rewrites its MODEL_CARD.md."""
    if distribute.is_chief():
        with run_lock(folder):
            export_run(folder.path, formats=formats, data_dir=data_dir)
            write_model_card(folder.path)
