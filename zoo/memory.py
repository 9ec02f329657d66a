"""What fits in this machine's memory: refused up front in one line, instead of by the kernel's OOM killer."""

import os

import keras
import numpy as np
from keras.src.backend.common import global_state

from zoo.errors import ZooError

FLOAT32 = 4


def memory_bytes():
    """This machine's physical memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _gib(size):
    return f"{size / 2**30:.1f} GiB"


def check_images_fit(count, shape):
    """Refuses `count` images of `shape` whose float32 copies (the pipelines cache every split) would take
    over half the memory."""
    needed, memory = count * int(np.prod(shape)) * FLOAT32, memory_bytes()
    if needed > memory / 2:
        raise ZooError(
            f"{count} images of {'x'.join(map(str, shape))} take {_gib(needed)} as float32, more than half of "
            f"this machine's {_gib(memory)} of memory: pass a smaller --image_size."
        )


def _layer_outputs(model):
    """The number of float values one example makes all of `model`'s layers output (nested models included)."""
    total = 0
    for layer in model.layers:
        if hasattr(layer, "layers"):
            total += _layer_outputs(layer)
            continue
        try:
            outputs = layer.output
        except (AttributeError, ValueError):  # a subclassed model's layers have no symbolic output
            continue
        for output in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            total += int(np.prod([dim or 1 for dim in output.shape[1:]]))
    return total


def _abstract_size(build):
    """(parameters, float values one example makes all layers output) of the model `build()` makes, without
    allocating its weights (Keras defers initializing variables made in a `StatelessScope`)."""
    with keras.StatelessScope(initialize_variables=False):
        model = build()
    global_state.set_global_attribute("uninitialized_variables", [])  # never to be initialized
    return model.name, model.count_params(), _layer_outputs(model)


def check_training_fits(build, batch_size, input_shape=None):
    """Refuses training whose batch surely cannot fit: every layer's float32 outputs and their gradients for
    `batch_size` examples, plus the weights, their gradients and two optimizer slots, over the whole memory.

    `build()` makes the model; its weights are never allocated.
    """
    name, parameters, outputs = _abstract_size(build)
    needed, memory = FLOAT32 * (2 * batch_size * outputs + 4 * parameters), memory_bytes()
    if needed > memory:
        inputs = f" of {'x'.join(map(str, input_shape))}" if input_shape else ""
        raise ZooError(
            f"Training {name} on batches of {batch_size} inputs{inputs} needs about {_gib(needed)}, more "
            f"than this machine's {_gib(memory)} of memory: pass a smaller --batch_size or --image_size."
        )
