"""The training core shared by the apps: compile, fit with resume, evaluate."""

import json
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from zoo import datasets
from zoo.files import atomic_path


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` whose files are renamed into place, so a kill never
    leaves a torn checkpoint as the latest one.

    Every worker restores from `backup_dir`; only the chief keeps what it saves.
    """

    def __init__(self, backup_dir, chief=True):
        super().__init__(backup_dir, delete_checkpoint=False)
        self.chief = chief

    def _save_model(self):
        save(self.model.save_weights, self._weights_path, self.chief)
        if not self.chief:
            return
        with atomic_path(self._training_metadata_path) as tmp:
            tmp.write_text(
                json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})
            )


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


def training_pipelines(splits, recipe, seed):
    """Returns batched (train, validation) datasets with one-hot labels.

    `batch_size` is global: under a multi-worker strategy each batch is split
    across the workers (sharded by data, not by file).
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    one_hot = lambda x, y: (x, tf.one_hot(y, splits.num_classes))  # noqa: E731
    train = datasets.batched(
        splits.train, recipe["batch_size"], shuffle_seed=seed,
        augment=recipe["augment"], flip=splits.augment_flip,
    )
    validation = datasets.batched(splits.validation, recipe["batch_size"])
    return (train.map(one_hot).with_options(options),
            validation.map(one_hot).with_options(options))


def fit(model, splits, recipe, model_dir, seed, chief=True):
    """Trains `model` in place, resuming from `model_dir/checkpoints` if present.

    Call it inside the strategy's scope. Only the `chief` writes to `model_dir`.
    Returns a dict with the epochs run by this call and the training time.
    """
    train, validation = training_pipelines(splits, recipe, seed)
    model.compile(
        optimizer=make_optimizer(recipe, int(train.cardinality())),
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=recipe["label_smoothing"]
        ),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    callbacks = [AtomicBackupAndRestore(os.path.join(model_dir, "checkpoints"), chief)]
    if chief:
        callbacks += [
            keras.callbacks.CSVLogger(os.path.join(model_dir, "history.csv"), append=True),
            keras.callbacks.TensorBoard(os.path.join(model_dir, "logs")),
        ]
    start = time.perf_counter()
    history = model.fit(
        train, validation_data=validation, epochs=recipe["epochs"],
        callbacks=callbacks, shuffle=False, verbose=2 if chief else 0,
    )
    seconds = time.perf_counter() - start
    epochs_run = len(history.epoch)
    return dict(
        epochs_run=epochs_run,
        resumed_from_epoch=recipe["epochs"] - epochs_run,
        training_seconds=round(seconds, 2),
        examples_per_second=round(epochs_run * int(splits.train.cardinality()) / seconds, 1),
    )


def predict_logits(model, dataset, batch_size=256):
    """Returns `(logits, labels)` as numpy arrays for an unbatched split."""
    logits, labels = [], []
    for x, y in dataset.batch(batch_size):
        logits.append(np.asarray(model(x, training=False)))
        labels.append(y.numpy())
    return np.concatenate(logits), np.concatenate(labels)
