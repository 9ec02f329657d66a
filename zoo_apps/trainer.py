"""The training core shared by the apps: compile, fit with resume, evaluate."""

import json
import os
import pathlib
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError
from zoo.explainability import adversarial as adversarial_training
from zoo.files import atomic_path, write_text
from zoo.quiet import STARTUP_LOG, native_stderr_to
from zoo.run_folder import CHECKPOINTS, HISTORY, LOGS
from zoo_apps import checkpoints

NATIVE_LOG = "native.log"  # in the run's logs/


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that a kill at any moment leaves consistent, and that also restores the state of
    the layers' random streams (e.g. Dropout's seed generators), which Keras's weights files leave out.

    Each epoch's weights go to a file of their own, renamed into place; only then does its metadata
    (`epoch_<n>.json`, and `training_metadata.json` naming the newest; renamed into place too) name
    them. The previous epoch's files stay as a fallback (`zoo_apps.checkpoints`); older ones go.
    Every worker restores `checkpoint` (`checkpoints.latest_checkpoint`); only the chief keeps what it saves.
    """

    def __init__(self, backup_dir, chief=True, checkpoint=None):
        super().__init__(backup_dir, delete_checkpoint=False)
        self.chief = chief
        self.checkpoint = checkpoint

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
        for old in checkpoints.stale_files(self.backup_dir, keep_epochs=(epoch, epoch - 1)):
            old.unlink()

    def _load_model(self):
        if self.checkpoint is None:
            return
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
        self.model._initial_epoch = metadata["epoch"]


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
    `g_loss`), before anything saves the broken weights."""

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


class Progress(keras.callbacks.Callback):
    """Prints one line per epoch: epoch k of n, its metrics, the time spent and the time left."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self.start, self.first_epoch = time.perf_counter(), None

    def on_epoch_end(self, epoch, logs=None):
        self.first_epoch = epoch if self.first_epoch is None else self.first_epoch
        elapsed = time.perf_counter() - self.start
        left = elapsed / (epoch + 1 - self.first_epoch) * (self.epochs - epoch - 1)
        shown = ", ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items() if name != "learning_rate")
        print(f"epoch {epoch + 1}/{self.epochs}: {shown}; {elapsed:.0f} s, about {left:.0f} s left", flush=True)


def epoch_stream(train, epochs, first_epoch):
    """The batches of epochs `first_epoch`..`epochs`-1 of `train` (one epoch of batches), back to back.

    `train`'s seeded shuffle and random streams draw anew on each pass over it; repeating it inside one
    dataset and skipping the finished epochs' batches gives a resumed run exactly the batches that an
    uninterrupted run would see (the skipped ones are drawn, not trained on).
    """
    steps = int(train.cardinality())
    return train.repeat(epochs).skip(first_epoch * steps), steps


def fit(task, model, splits, recipe, folder, seed, chief=True, adversarial=None):
    """Compiles (as `task` says) and trains `model` in place, resuming from the run's checkpoints.

    Call it inside the strategy's scope. Only the `chief` writes to the run folder.
    `batch_size` is global: under a multi-worker strategy each batch is split across
    the workers (sharded by data, not by file).
    `adversarial` (a run's `adversarial` entry) trains on FGSM or PGD batches instead of the clean ones.
    Returns a dict with the epochs run by this call and the training time.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train, validation = (dataset.with_options(options) for dataset in task.training_pipelines(splits, recipe, seed))
    task.compile(model, recipe, lambda: make_optimizer(recipe, int(train.cardinality())))
    adversarial_training.install(model, adversarial, seed)
    checkpoint = checkpoints.latest_checkpoint(folder.file(CHECKPOINTS))
    callbacks = [StopOnNonFiniteLoss(), AtomicBackupAndRestore(str(folder.file(CHECKPOINTS)), chief, checkpoint)]
    if chief:
        callbacks += [
            keras.callbacks.CSVLogger(str(folder.file(HISTORY)), append=True),
            keras.callbacks.TensorBoard(str(folder.file(LOGS))),
            Progress(recipe["epochs"]),
            *task.callbacks(model, splits, folder),
        ]
    stream, steps = epoch_stream(train, recipe["epochs"], checkpoint[0]["epoch"] if checkpoint else 0)
    start = time.perf_counter()
    with native_logs(folder, chief):
        history = model.fit(
            stream,
            validation_data=validation,
            epochs=recipe["epochs"],
            steps_per_epoch=steps,
            callbacks=callbacks,
            shuffle=False,
            verbose=0,
        )
    seconds = time.perf_counter() - start
    epochs_run = len(history.epoch)
    return dict(
        epochs_run=epochs_run,
        resumed_from_epoch=recipe["epochs"] - epochs_run,
        training_seconds=round(seconds, 2),
        examples_per_second=round(epochs_run * int(splits.train.cardinality()) / seconds, 1) if epochs_run else None,
    )
