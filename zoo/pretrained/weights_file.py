"""The shipped weights format: a compressed `.npz` of float16 arrays keyed by variable path.

Under half the size of a float32 `.weights.h5`; the model itself is rebuilt with
`zoo.create_model` from the manifest, so the file holds numbers only (loaded
with `allow_pickle=False`). Keys are Keras variable paths such as `conv/kernel`.
"""

import hashlib

import numpy as np

from zoo.errors import ZooError
from zoo.files import atomic_path

SUFFIX = ".weights.npz"


def model_weights(model):
    """Returns `{variable path: numpy array}` for every variable of `model`."""
    weights = {variable.path: np.asarray(variable) for variable in model.weights}
    if len(weights) != len(model.weights):
        raise ValueError(f"Model {model.name!r} has variables that share a path.")
    return weights


def save_float16_weights(model, path, extras=None):
    """Writes `model`'s variables as float16 to `path` (atomically), with `extras` (`{key: array}`) as they are."""
    weights = dict(extras or {})
    for name, value in model_weights(model).items():
        if np.issubdtype(value.dtype, np.floating):
            value = value.astype(np.float16)
            if not np.isfinite(value).all():
                raise ValueError(f"{name} overflows float16 (largest |value| {np.abs(value).max()}).")
        weights[name] = value
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **weights)


def assign_weights(model, weights, origin, shape_fix, skip=()):
    """Assigns `weights` (`{variable path: array}`) to every variable of `model` but those under a
    `skip` prefix; refuses, in one line, weights of another model (with `shape_fix` for other shapes)."""
    unknown = sorted(set(weights) - {variable.path for variable in model.weights})
    if unknown:
        raise ZooError(
            f"{origin} holds weights that {model.name} does not have ({', '.join(unknown[:3])}): it is another model."
        )
    for variable in model.weights:
        if variable.path.startswith(tuple(skip)):
            continue
        if variable.path not in weights:
            raise ZooError(f"{origin} has no weights for {variable.path}: it is another model than {model.name}.")
        value = weights[variable.path]
        if tuple(value.shape) != tuple(variable.shape):
            raise ZooError(
                f"{origin} was trained with other shapes: {variable.path} has shape {tuple(value.shape)} "
                f"there but {tuple(variable.shape)} here. {shape_fix}"
            )
        variable.assign(value.astype(variable.dtype))


def read_weights(path):
    """Returns `{variable path: numpy array}` from a file written by `save_float16_weights`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError) as error:
        raise ZooError(f"{path} is not a readable weights file ({error}): delete it and load again.") from None


def sha256_of(path):
    """The hex sha256 digest of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
