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
OPTIMIZERS = ("sgd", "adam", "adamw")
LR_SCHEDULES = ("constant", "cosine")


def check_recipe(recipe, owner):
    """Raises `ValueError` unless `recipe` sets exactly the recipe keys with usable values."""
    missing, unknown = set(RECIPE_KEYS) - set(recipe), set(recipe) - set(RECIPE_KEYS)
    if missing or unknown:
        raise ValueError(
            f"The recipe of {owner} must set exactly {', '.join(RECIPE_KEYS)}. "
            f"Received: missing={sorted(missing)}, unknown={sorted(unknown)}"
        )
    if recipe["optimizer"] not in OPTIMIZERS or recipe["lr_schedule"] not in LR_SCHEDULES:
        raise ValueError(
            f"The recipe of {owner} names an unknown optimizer or schedule. Received: "
            f"optimizer={recipe['optimizer']!r}, lr_schedule={recipe['lr_schedule']!r}"
        )
    if recipe["epochs"] < 1 or recipe["batch_size"] < 1:
        raise ValueError(f"The recipe of {owner} needs epochs and batch_size >= 1. Received: {recipe}")


def override(recipe, **values):
    """Returns `recipe` with the values that are not None replaced; refuses unknown keys."""
    unknown = set(values) - set(RECIPE_KEYS)
    if unknown:
        raise ZooError(f"Unknown recipe settings {sorted(unknown)}: use {', '.join(RECIPE_KEYS)}.")
    return {**recipe, **{key: value for key, value in values.items() if value is not None}}


def check_values(recipe):
    """Refuses (`ZooError`) a learning rate that is not a positive finite number, and NaN or infinite
    weight decay or label smoothing (flag bounds let NaN through: it compares false with everything)."""
    rate = recipe["learning_rate"]
    if not (math.isfinite(rate) and rate > 0):
        raise ZooError(f"--learning_rate must be a positive finite number (e.g. 0.001). Received: {rate}")
    for key in ("weight_decay", "label_smoothing"):
        if not math.isfinite(recipe[key]):
            raise ZooError(f"--{key} must be a finite number (0 for none). Received: {recipe[key]}")
