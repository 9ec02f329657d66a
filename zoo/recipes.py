"""Training recipes: the settings every registered model carries and every app flag overrides."""

import math

from zoo.errors import ZooError

# Recipe key -> what it means; the apps define one flag per key.
RECIPE_KEYS = {
    "epochs": "Training epochs.",
    "batch_size": "Examples per batch.",
    "optimizer": "Optimizer: sgd (Nesterov momentum 0.9), adam or adamw.",
    "learning_rate": "Peak learning rate.",
    "lr_schedule": "Learning-rate schedule: constant, or cosine (one warm-up epoch, then decay to zero).",
    "weight_decay": "Decoupled weight decay (0 for none).",
    "label_smoothing": "Label smoothing in [0, 1) (classification).",
    "augment": "Random rotation, zoom and shift (images; flips only where labels allow).",
}
PRECISE_BATCH_NORM_BATCHES = 100
# Optional keys: a recipe that sets `head_epochs` trains in two phases (`zoo_apps.phases`), as one run;
# one that sets `precise_batch_norm` recomputes the batch-norm statistics after training (`zoo.batch_norm`).
OPTIONAL_KEYS = {
    "head_epochs": "Epochs that first train the `logits` head alone, the rest frozen, before the --epochs of "
    "the whole network (layers frozen when built, e.g. batch norm, stay frozen); 0 for one phase.",
    "head_learning_rate": "Learning rate of the head-only epochs (unset: --learning_rate).",
    "precise_batch_norm": "After training, recompute every trainable batch norm's statistics on up to "
    f"{PRECISE_BATCH_NORM_BATCHES} training batches (no augmentation) with the final weights: a deep network "
    "trained from scratch for a few hundred steps otherwise predicts one class in inference mode.",
    "steps_per_execution": "Training batches per call of the compiled step (Keras's `steps_per_execution`): fewer "
    "round trips from Python where a step is tiny; progress and checkpoints still come once an epoch. 1 if unset.",
}
OPTIMIZERS = ("sgd", "adam", "adamw")
LR_SCHEDULES = ("constant", "cosine")


def check_recipe(recipe, owner):
    """Raises `ValueError` unless `recipe` sets exactly the recipe keys with usable values."""
    missing, unknown = set(RECIPE_KEYS) - set(recipe), set(recipe) - set(RECIPE_KEYS) - set(OPTIONAL_KEYS)
    if missing or unknown:
        raise ValueError(
            f"The recipe of {owner} must set exactly {', '.join(RECIPE_KEYS)} "
            f"(and may set {', '.join(OPTIONAL_KEYS)}). Received: missing={sorted(missing)}, unknown={sorted(unknown)}"
        )
    if recipe["optimizer"] not in OPTIMIZERS or recipe["lr_schedule"] not in LR_SCHEDULES:
        raise ValueError(
            f"The recipe of {owner} names an unknown optimizer or schedule. Received: "
            f"optimizer={recipe['optimizer']!r}, lr_schedule={recipe['lr_schedule']!r}"
        )
    if recipe["epochs"] < 1 or recipe["batch_size"] < 1:
        raise ValueError(f"The recipe of {owner} needs epochs and batch_size >= 1. Received: {recipe}")
    head_epochs, head_rate = recipe.get("head_epochs", 0), recipe.get("head_learning_rate")
    if not (isinstance(head_epochs, int) and head_epochs >= 0) or (head_rate is not None and not head_rate > 0):
        raise ValueError(f"The recipe of {owner} needs head_epochs >= 0 and head_learning_rate > 0. Received: {recipe}")


def override(recipe, **values):
    """Returns `recipe` with the values that are not None replaced; refuses unknown keys."""
    unknown = set(values) - set(RECIPE_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        raise ZooError(f"Unknown recipe settings {sorted(unknown)}: use {', '.join([*RECIPE_KEYS, *OPTIONAL_KEYS])}.")
    return {**recipe, **{key: value for key, value in values.items() if value is not None}}


def check_values(recipe):
    """Refuses (`ZooError`) a learning rate (or head-only one) that is not a positive finite number, and NaN or infinite
    weight decay or label smoothing (flag bounds let NaN through: it compares false with everything)."""
    for key in ("learning_rate", "head_learning_rate"):  # the second only in recipes that set it
        rate = recipe.get(key)
        if key in recipe and not (rate is not None and math.isfinite(rate) and rate > 0):
            raise ZooError(f"--{key} must be a positive finite number (e.g. 0.001). Received: {rate}")
    for key in ("weight_decay", "label_smoothing"):
        if not math.isfinite(recipe[key]):
            raise ZooError(f"--{key} must be a finite number (0 for none). Received: {recipe[key]}")
