"""Training in phases, as one run: a head-only warm-up, then the whole network.

A recipe with `head_epochs` > 0 first trains the `logits` layer alone for that many epochs (every other
layer frozen, batch norm in inference mode) at `head_learning_rate`, with an optimizer of its own; then
`epochs` more epochs train every layer that was trainable as built (a pretrained backbone's frozen
batch norm stays frozen) at `learning_rate`, with a fresh optimizer. Epochs are counted over the whole
run: history.csv, the progress lines and the checkpoints' epoch numbers go on across the boundary, and a
checkpoint belongs to the phase whose epoch wrote it (its optimizer's state is that phase's), so that a
resumed run restores it in that phase and goes on from there. A recipe without `head_epochs` has one
phase: the whole run, as before.
"""

import dataclasses

from zoo.errors import ZooError
from zoo.pretrained.loading import HEAD


@dataclasses.dataclass(frozen=True)
class Phase:
    """Epochs `start`..`end`-1 of the run; `recipe` is what its optimizer and schedule take."""

    name: str  # "head" (the logits layer alone) or "all"
    start: int
    end: int
    recipe: dict


def plan(recipe):
    """The phases of a run of `recipe`: one, or the head-only warm-up and then the whole network."""
    head = recipe.get("head_epochs") or 0
    total = head + recipe["epochs"]
    if not head:
        return [Phase("all", 0, total, recipe)]
    rate = recipe.get("head_learning_rate") or recipe["learning_rate"]
    head_recipe = {**recipe, "epochs": head, "learning_rate": rate}
    return [Phase("head", 0, head, head_recipe), Phase("all", head, total, recipe)]


def resuming_phase(phases, finished):
    """The index of the phase whose epochs wrote the checkpoint after `finished` epochs (0 for a new run)."""
    return next((index for index, phase in enumerate(phases) if phase.start < finished <= phase.end), 0)


def check_head(model, recipe, model_name):
    """Refuses (`ZooError`) a head-only warm-up for a model without a `logits` layer that has weights."""
    if not recipe.get("head_epochs"):
        return
    head = next((layer for layer in model.layers if layer.name == HEAD), None)
    if head is None or not head.trainable_weights:
        raise ZooError(
            f"--head_epochs trains the {HEAD!r} layer alone first, and model {model_name!r} has no such layer "
            "with weights: pass --head_epochs=0."
        )


def trainable_flags(model):
    """Every layer's (nested ones too, parents first) `trainable` as built: what the last phase trains."""
    return [(layer, layer.trainable) for layer in model._flatten_layers(include_self=False)]


def set_trainable(model, phase, flags):
    """Freezes all but the `logits` layer for the head phase; restores the built `flags` for the other."""
    if phase.name == "all":
        for layer, trainable in flags:
            layer.trainable = trainable
        return
    for layer in model.layers:
        layer.trainable = layer.name == HEAD
