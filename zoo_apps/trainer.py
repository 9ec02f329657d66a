"""The training core shared by the apps: compile, fit with resume, evaluate."""

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from zoo import datasets
from zoo.files import atomic_path


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` whose files are renamed into place, so a kill never
    leaves a torn checkpoint as the latest one."""

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        with atomic_path(self._weights_path) as tmp:
            self.model.save_weights(str(tmp))
        with atomic_path(self._training_metadata_path) as tmp:
            tmp.write_text(
                json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})
            )


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
    """Returns batched (train, validation) datasets with one-hot labels."""
    one_hot = lambda x, y: (x, tf.one_hot(y, splits.num_classes))  # noqa: E731
    train = datasets.batched(
        splits.train, recipe["batch_size"], shuffle_seed=seed,
        augment=recipe["augment"], flip=splits.augment_flip,
    )
    validation = datasets.batched(splits.validation, recipe["batch_size"])
    return train.map(one_hot), validation.map(one_hot)


def fit(model, splits, recipe, model_dir, seed):
    """Trains `model` in place, resuming from `model_dir/checkpoints` if present.

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
    backup = AtomicBackupAndRestore(os.path.join(model_dir, "checkpoints"), delete_checkpoint=False)
    callbacks = [
        backup,
        keras.callbacks.CSVLogger(os.path.join(model_dir, "history.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(model_dir, "logs")),
    ]
    start = time.perf_counter()
    history = model.fit(
        train, validation_data=validation, epochs=recipe["epochs"],
        callbacks=callbacks, shuffle=False, verbose=2,
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
