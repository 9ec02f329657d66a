"""Model registry: every builder registers itself by name with its default config."""

import difflib
import fnmatch

from zoo.errors import ZooError

_MODELS = {}


def register_model(task, input_shape, recipe, paper, exportable=True):
    """Registers a builder `name(num_classes, input_shape, **kwargs) -> keras.Model`.

    Args:
        task: e.g. "image_classification".
        input_shape: default input shape, without the batch dimension.
        recipe: default training recipe (flag name -> value) used by the apps.
        paper: the reference the builder implements.
        exportable: whether the model converts to TFLite with builtin ops.
    """

    def decorator(builder):
        name = builder.__name__
        if name in _MODELS:
            raise ValueError(f"Model {name!r} is already registered.")
        _MODELS[name] = dict(
            name=name,
            task=task,
            input_shape=tuple(input_shape),
            recipe=dict(recipe),
            paper=paper,
            description=(builder.__doc__ or "").strip().splitlines()[0],
            exportable=exportable,
            builder=builder,
        )
        return builder

    return decorator


def list_models(pattern="*", task=None):
    """Returns the sorted names of registered models matching an fnmatch `pattern`."""
    return sorted(
        name
        for name, info in _MODELS.items()
        if fnmatch.fnmatch(name, pattern) and task in (None, info["task"])
    )


def _entry(name):
    if name not in _MODELS:
        close = difflib.get_close_matches(name, _MODELS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ZooError(
            f"Unknown model {name!r}.{hint} Available: {', '.join(list_models())}."
        )
    return _MODELS[name]


def model_info(name):
    """Returns the registered config of model `name` (a copy, without the builder)."""
    info = {k: v for k, v in _entry(name).items() if k != "builder"}
    info["recipe"] = dict(info["recipe"])
    return info


def create_model(name, num_classes=None, input_shape=None, pretrained=False, **kwargs):
    """Builds an uncompiled `keras.Model` that maps raw inputs to class logits.

    Args:
        name: a registered model name (see `list_models()`).
        num_classes: number of output classes; defaults to 10.
        input_shape: input shape without batch dimension; defaults to the
            model's registered shape.
        pretrained: False (random init), True (the model's default pretrained
            entry), an entry name (`zoo.pretrained.list_pretrained()`), or a
            user's run folder or `.keras` file; `num_classes` and `input_shape`
            then default to the weights'. Another `num_classes` keeps the
            backbone and starts a fresh `logits` head. A text run keeps its
            vocabulary and sequence length (not for `bert`: use its `preset`).
        **kwargs: passed to the builder (e.g. `alpha` for `mobilenet_v2`).
    """
    entry = _entry(name)
    if pretrained:
        from zoo.pretrained import build_pretrained  # zoo.pretrained imports this module

        return build_pretrained(name, pretrained, num_classes, input_shape, **kwargs)
    return entry["builder"](
        num_classes=num_classes or 10,
        input_shape=tuple(input_shape or entry["input_shape"]),
        **kwargs,
    )
