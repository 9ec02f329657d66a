"""The training core shared by the apps: compile, fit with resume, evaluate."""

import json
import os
import pathlib
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from zoo import batch_norm
from zoo.errors import ZooError
from zoo.explainability import adversarial as adversarial_training
from zoo.files import atomic_path, write_text
from zoo.quiet import STARTUP_LOG, native_stderr_to
from zoo.recipes import PRECISE_BATCH_NORM_BATCHES
from zoo.run_folder import CHECKPOINTS, HISTORY, LOGS
from zoo_apps import checkpoints, phases

NATIVE_LOG = "native.log"  # in the run's logs/

# Seconds of training a kill may lose: checkpoints are written at most this often (and after the first and
# last epoch). Under a distribution strategy, after every epoch: saving is collective, every worker must join.
CHECKPOINT_SECONDS = 10.0


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras's TensorBoard callback, writing per epoch (its default), marked safe for Keras's asynchronous
    batch-end dispatch: a callback with an `on_train_batch_end` hook otherwise makes every step wait for
    its logs (measured: ~15% of the default command's training time on 2 CPU cores)."""

    async_safe = True


def steps_per_call(asked, steps):
    """Training steps per call of the compiled step: the largest divisor of an epoch's `steps` up to `asked`
    (default 1), so that no call straddles two epochs (such calls gave other per-epoch numbers than one step a call,
    though the same final weights)."""
    steps = max(steps, 1)
    return max(d for d in range(1, min(asked or 1, steps) + 1) if steps % d == 0)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that a kill at any moment leaves consistent, and that also restores the state of
    the layers' random streams (e.g. Dropout's seed generators), which Keras's weights files leave out.

    Each epoch's weights go to a file of their own, renamed into place; only then does its metadata
    (`epoch_<n>.json`, and `training_metadata.json` naming the newest; renamed into place too) name
    them. The previous checkpoint's files stay as a fallback (`zoo_apps.checkpoints`); older ones go.
    Every worker restores `checkpoint` (`checkpoints.latest_checkpoint`); only the chief keeps what it saves.
    A checkpoint is written after the first and the last epoch, and after each epoch that ends
    `min_seconds` or more after the previous checkpoint (a write costs about as much as a small
    model's epoch); with `min_seconds=0`, after every epoch.
    Its batch-end hook only counts batches (it saves per epoch), so Keras may run it asynchronously.
    """

    async_safe = True

    def __init__(self, backup_dir, chief=True, checkpoint=None, min_seconds=0.0):
        super().__init__(backup_dir, delete_checkpoint=False)
        self.chief, self.checkpoint = chief, checkpoint
        self.min_seconds, self.saved_at = min_seconds, None
        self.saved_epoch = checkpoint[0]["epoch"] if checkpoint else None

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if self.saved_at is None or epoch + 1 == self.params["epochs"] or now - self.saved_at >= self.min_seconds:
            super().on_epoch_end(epoch, logs)
            self.saved_at = now

    def _save_model(self):
        epoch = self._current_epoch
        os.makedirs(self.backup_dir, exist_ok=True)
        save(self.model.save_weights, os.path.join(self.backup_dir, checkpoints.weights_name(epoch)), self.chief)
        if not self.chief:
            return
        metadata = json.dumps(
            dict(
                epoch=epoch,
                batch=self._last_batch_seen,
                weights=checkpoints.weights_name(epoch),
                random_states=[keras.ops.convert_to_numpy(state).tolist() for state in random_states(self.model)],
            )
        )
        write_text(os.path.join(self.backup_dir, checkpoints.epoch_metadata_name(epoch)), metadata)
        write_text(self._training_metadata_path, metadata)
        previous = epoch - 1 if self.saved_epoch is None else self.saved_epoch
        for old in checkpoints.stale_files(self.backup_dir, keep_epochs=(epoch, previous)):
            old.unlink()
        self.saved_epoch = epoch

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        self.model._initial_epoch = None  # set by restoring: the run's next phase, if any, starts at its own epoch

    def _load_model(self):
        if self.checkpoint is not None:
            self.restore()
            self.model._initial_epoch = self.checkpoint[0]["epoch"]

    def restore(self):
        """Loads `checkpoint` (weights, optimizer state, random streams) into the compiled model."""
        metadata, weights = self.checkpoint
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(weights)
        except (ValueError, OSError, KeyError) as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
            raise ZooError(
                f"The run's checkpoint {weights} does not fit this model ({first}): delete {self.backup_dir} and "
                "run the same command to train this run again from epoch 1, or pass a new --model_dir."
            ) from None
        for state, value in zip(random_states(self.model), metadata.get("random_states", [])):
            state.assign(value)


def random_states(model):
    """The state variables of the model's seed generators (Dropout and other random layers), in a fixed order."""
    return [variable for variable in model.variables if variable.name == "seed_generator_state"]


def native_logs(folder, chief=True):
    """Sends what TensorFlow's native code writes straight to file descriptor 2 while training or
    evaluating (grappler's "remapper failed", "NodeDef mentions attribute ...") to the run's
    logs/native.log, as `zoo.quiet` does at start-up (another worker's to `zoo.quiet.STARTUP_LOG`)."""
    path = folder.file(LOGS) / NATIVE_LOG if chief else STARTUP_LOG
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    return native_stderr_to(path)


def save(save_fn, path, chief=True):
    """Saves with `save_fn(path)` atomically on the chief.

    Other workers save too, into a temporary folder they then delete: under a
    multi-worker strategy saving runs collective ops that every worker must join.
    """
    if chief:
        with atomic_path(path) as tmp:
            save_fn(str(tmp))
    else:
        with tempfile.TemporaryDirectory() as folder:
            save_fn(os.path.join(folder, os.path.basename(path)))


def make_optimizer(recipe, steps_per_epoch):
    """Builds the optimizer and learning-rate schedule a recipe names.

    `cosine` warms up linearly for one epoch, then decays to zero.
    Weight decay is decoupled and skips biases and normalization parameters.
    """
    learning_rate = recipe["learning_rate"]
    if recipe["lr_schedule"] == "cosine":
        warmup = steps_per_epoch if recipe["epochs"] > 1 else 0
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else learning_rate,
            decay_steps=max(recipe["epochs"] * steps_per_epoch - warmup, 1),
            warmup_target=learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    kwargs = dict(learning_rate=learning_rate, weight_decay=recipe["weight_decay"] or None)
    optimizer = {
        "sgd": lambda: keras.optimizers.SGD(momentum=0.9, nesterov=True, **kwargs),
        "adam": lambda: keras.optimizers.Adam(**kwargs),
        "adamw": lambda: keras.optimizers.AdamW(**kwargs),
    }[recipe["optimizer"]]()
    if recipe["weight_decay"]:
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite loss (every logged `*loss`, e.g. a GAN's `d_loss` and
    `g_loss`), before anything saves the broken weights.

    Keras runs its batch-end check asynchronously (`async_safe`): the steps need not wait for it, and its
    error surfaces at the next batch end or, at the latest, before the epoch's end (Keras waits for the
    pending checks before any `on_epoch_end`, where checkpoints are saved)."""

    async_safe = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for name, loss in (logs or {}).items():
            if name.endswith("loss") and not np.isfinite(float(loss)):
                raise ZooError(self._message(name, float(loss), batch))

    def _message(self, name, loss, batch):
        optimizer = self.model.optimizer  # None for models with their own optimizers (GANs)
        rate = f" (learning rate {float(keras.ops.convert_to_numpy(optimizer.learning_rate)):.3g})" if optimizer else ""
        other = ", or --optimizer=adamw" if optimizer else ""
        return (
            f"Training diverged: the {name} became {loss} in epoch {self.epoch + 1}, batch {batch + 1}{rate}. "
            f"Nothing was saved from that epoch: try a lower --learning_rate{other}, in a new --model_dir."
        )


def warmup_seconds(batch_seconds):
    """How much longer one loop over batches (training or validation) of a process's first epoch took than
    its steady pace: its first batch traces the step, and a last, smaller batch traces it again for its shape.
    Each counts beyond the median of the batches between them (the faster one of two batches)."""
    if len(batch_seconds) < 2:
        return 0.0
    steady = float(np.median(batch_seconds[1:-1])) if len(batch_seconds) > 2 else min(batch_seconds)
    return max(batch_seconds[0] - steady, 0.0) + max(batch_seconds[-1] - steady, 0.0)


def seconds_left(epoch_seconds, epochs_left, warmup=0.0):
    """Estimated seconds for `epochs_left` more epochs, from the durations of the epochs this process ran.

    The first epoch also traces the training and evaluation steps (on small models that takes several
    times a later epoch): once later epochs exist it is left out; alone, it counts without its `warmup`.
    """
    later = epoch_seconds[1:]
    per_epoch = sum(later) / len(later) if later else max(epoch_seconds[0] - warmup, 0.0)
    return per_epoch * epochs_left


class Progress(keras.callbacks.Callback):
    """Prints one line per epoch: epoch k of n, its metrics, the time spent and the time left."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self.start, self.epoch_seconds, self.warmup, self.starts = time.perf_counter(), [], 0.0, None

    # The first epoch's batches are timed from one batch's start to the next's (or the loop's end), for
    # `warmup_seconds`: `*_batch_begin` hooks leave Keras's asynchronous callbacks on.
    def _loop_begins(self):
        self.starts = [time.perf_counter()] if not self.epoch_seconds else None

    def _batch_begins(self, batch):
        if self.starts is not None and batch > 0:
            self.starts.append(time.perf_counter())

    def _loop_ends(self):
        if self.starts is not None:
            self.warmup += warmup_seconds(np.diff([*self.starts, time.perf_counter()]))
            self.starts = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()
        self._loop_begins()

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_begins(batch)

    def on_test_begin(self, logs=None):
        self._loop_ends()
        self._loop_begins()

    def on_test_batch_begin(self, batch, logs=None):
        self._batch_begins(batch)

    def on_test_end(self, logs=None):
        self._loop_ends()

    def on_epoch_end(self, epoch, logs=None):
        self._loop_ends()  # without validation
        now = time.perf_counter()
        self.epoch_seconds.append(now - self.epoch_start)
        left = seconds_left(self.epoch_seconds, self.epochs - epoch - 1, self.warmup)
        shown = ", ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items() if name != "learning_rate")
        print(
            f"epoch {epoch + 1}/{self.epochs}: {shown}; {now - self.start:.0f} s, about {left:.0f} s left", flush=True
        )


def epoch_stream(train, epochs, first_epoch):
    """The batches of epochs `first_epoch`..`epochs`-1 of `train` (one epoch of batches), back to back.

    `train`'s seeded shuffle and random streams draw anew on each pass over it; repeating it inside one
    dataset and skipping the finished epochs' batches gives a resumed run exactly the batches that an
    uninterrupted run would see (the skipped ones are drawn, not trained on). A dataset's random streams
    go on from one pass to the next (`reshuffle_each_iteration`, `rerandomize_each_iteration`): each phase
    of a run takes a freshly built `train` for the same reason.
    """
    steps = int(train.cardinality())
    return train.repeat(epochs).skip(first_epoch * steps), steps


def fit(task, model, splits, recipe, folder, seed, chief=True, adversarial=None):
    """Compiles (as `task` says) and trains `model` in place, resuming from the run's checkpoints.

    Call it inside the strategy's scope. Only the `chief` writes to the run folder.
    `batch_size` is global: under a multi-worker strategy each batch is split across
    the workers (sharded by data, not by file).
    `adversarial` (a run's `adversarial` entry) trains on FGSM or PGD batches instead of the clean ones.
    A recipe with `head_epochs` trains the head alone first, then the whole network (`zoo_apps.phases`):
    each phase compiles with its own optimizer; a resumed run restores its checkpoint in the phase that
    wrote it (at the boundary, the head phase's, before the second phase starts with a fresh optimizer).
    A recipe with `precise_batch_norm` then recomputes the batch norms' statistics (`zoo.batch_norm`).
    Returns a dict with the epochs run by this call and the training time.
    """
    train, validation = _pipelines(task, splits, recipe, seed)
    checkpoint = checkpoints.latest_checkpoint(folder.file(CHECKPOINTS))
    finished, steps = checkpoint[0]["epoch"] if checkpoint else 0, int(train.cardinality())
    plan = phases.plan(recipe)
    resumed, built = phases.resuming_phase(plan, finished), phases.trainable_flags(model)
    every = 0.0 if tf.distribute.has_strategy() else CHECKPOINT_SECONDS
    epochs_run, start = 0, time.perf_counter()
    for index, phase in enumerate(plan[resumed:], resumed):
        if len(plan) > 1:  # one phase trains the model as built
            phases.set_trainable(model, phase, built)
        if index > resumed:  # a fresh pipeline: its shuffle and random streams start anew, as in a resumed run
            train, validation = _pipelines(task, splits, recipe, seed)
        task.compile(model, phase.recipe, lambda phase=phase: make_optimizer(phase.recipe, steps))
        # Read when Keras builds its step. One a call under a distribution strategy: Keras 3.15's multi-step
        # function fails there ("You must feed a value for placeholder tensor": tests/test_distribute.py).
        asked = 1 if tf.distribute.has_strategy() else phase.recipe.get("steps_per_execution")
        model.steps_per_execution = steps_per_call(asked, steps)
        if index == resumed:
            adversarial_training.install(model, adversarial, seed)
        restore = checkpoint if index == resumed else None
        backup = AtomicBackupAndRestore(str(folder.file(CHECKPOINTS)), chief, restore, every)
        first = finished if restore else phase.start
        if first == phase.end and index + 1 < len(plan):  # the phase had ended: its weights go on to the next
            backup.set_model(model)
            backup.restore()
            continue
        history = _fit_phase(task, model, splits, folder, (train, validation), phase, first, backup, chief, plan)
        epochs_run += len(history.epoch)
    if recipe.get("precise_batch_norm"):  # also when nothing was left to train: the checkpoint has the old statistics
        train, _ = _pipelines(task, splits, {**recipe, "augment": False}, seed)
        batch_norm.recalibrate(model, train.take(PRECISE_BATCH_NORM_BATCHES))
    seconds = time.perf_counter() - start
    return dict(
        epochs_run=epochs_run,
        resumed_from_epoch=plan[-1].end - epochs_run,
        training_seconds=round(seconds, 2),
        examples_per_second=round(epochs_run * int(splits.train.cardinality()) / seconds, 1) if epochs_run else None,
    )


def _pipelines(task, splits, recipe, seed):
    """The task's batched `(train, validation)` datasets, sharded by data under a multi-worker strategy."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return tuple(dataset.with_options(options) for dataset in task.training_pipelines(splits, recipe, seed))


def _fit_phase(task, model, splits, folder, datasets, phase, first, backup, chief, plan):
    """Runs epochs `first`..`phase.end`-1 of the run (of phases `plan`) in `phase`; returns Keras's history."""
    train, validation = datasets
    callbacks = [StopOnNonFiniteLoss(), backup]
    if chief:
        callbacks += [
            keras.callbacks.CSVLogger(str(folder.file(HISTORY)), append=True),
            EpochTensorBoard(str(folder.file(LOGS))),
            Progress(plan[-1].end),
            *task.callbacks(model, splits, folder),
        ]
    stream, steps = epoch_stream(train, phase.end, first)
    with native_logs(folder, chief):
        return model.fit(
            stream,
            validation_data=validation,
            epochs=phase.end,
            initial_epoch=first,
            steps_per_epoch=steps,
            callbacks=callbacks,
            shuffle=False,
            verbose=0,
        )
