"""Model registry: every builder registers itself by name with what it can do."""

import difflib
import fnmatch

from zoo.errors import ZooError
from zoo.recipes import check_recipe

_MODELS = {}


def register_model(
    task,
    input_shape,
    recipe,
    paper,
    exportable=True,
    min_input_size=1,
    from_runs=True,
    adapt=None,
    option_defaults=None,
    pretrained_recipe=None,
):
    """Registers a builder `name(num_classes, input_shape, **kwargs) -> keras.Model`.

    Args:
        task: the task it serves (e.g. "image_classification"), or a tuple of tasks.
        input_shape: default input shape, without the batch dimension.
        recipe: default training recipe (`zoo.recipes.RECIPE_KEYS` -> value).
        paper: the reference the builder implements.
        exportable: whether the model converts to TFLite with builtin ops.
        min_input_size: the smallest image height/width the architecture takes.
        from_runs: whether `create_model(pretrained=<run folder>)` can start it
            from a finished run's weights.
        adapt: optional `adapt(splits, **options) -> builder kwargs` computed from
            the training split (vocabularies, statistics); None uses the task's.
        option_defaults: optional `option_defaults(options) -> (options, recipe changes)`: builder
            options and recipe values that depend on the options a run sets (a pretrained
            preset's pooling, length and learning rate); the run's own settings win.
        pretrained_recipe: optional `{pretrained: recipe changes}`: how to fine-tune from those
            weights (`pretrained` as `create_model` takes it: True for the default entry, or a
            name), e.g. a head-only warm-up (`head_epochs`) and a lower learning rate.
    """

    def decorator(builder):
        name = builder.__name__
        if name in _MODELS:
            raise ValueError(f"Model {name!r} is already registered.")
        check_recipe(recipe, f"model {name!r}")
        for source, changes in (pretrained_recipe or {}).items():
            check_recipe({**recipe, **changes}, f"model {name!r} fine-tuned from pretrained={source!r}")
        _MODELS[name] = dict(
            name=name,
            tasks=(task,) if isinstance(task, str) else tuple(task),
            input_shape=tuple(input_shape),
            recipe=dict(recipe),
            paper=paper,
            description=(builder.__doc__ or "").strip().splitlines()[0],
            exportable=exportable,
            min_input_size=min_input_size,
            from_runs=from_runs,
            adapt=adapt,
            option_defaults=option_defaults,
            pretrained_recipe={source: dict(changes) for source, changes in (pretrained_recipe or {}).items()},
            builder=builder,
        )
        return builder

    return decorator


def list_models(pattern="*", task=None):
    """Returns the sorted names of registered models matching an fnmatch `pattern` (and `task`)."""
    return sorted(
        name
        for name, info in _MODELS.items()
        if fnmatch.fnmatch(name, pattern) and (task is None or task in info["tasks"])
    )


def _entry(name):
    if name not in _MODELS:
        close = difflib.get_close_matches(name, _MODELS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ZooError(f"Unknown model {name!r}.{hint} Available: {', '.join(list_models())}.")
    return _MODELS[name]


def model_info(name):
    """Returns the registered config of model `name` (a copy, without the builder)."""
    info = {k: v for k, v in _entry(name).items() if k not in ("builder", "adapt", "option_defaults")}
    info["recipe"] = dict(info["recipe"])
    info["pretrained_recipe"] = {source: dict(changes) for source, changes in info["pretrained_recipe"].items()}
    info["task"] = info["tasks"][0]
    return info


def model_defaults(name, options, pretrained=None):
    """`(options, recipe)` a run of model `name` starts from: the `options` it sets over the defaults they
    imply (`option_defaults`), and the registered recipe with the changes they and the `pretrained`
    weights it starts from (`pretrained_recipe`) imply."""
    entry = _entry(name)
    recipe = {**entry["recipe"], **entry["pretrained_recipe"].get(pretrained or None, {})}
    if entry["option_defaults"] is None:
        return dict(options), recipe
    default_options, recipe_changes = entry["option_defaults"](dict(options))
    return {**default_options, **options}, {**recipe, **recipe_changes}


def model_adapter(name):
    """The model's own `adapt(splits, **options)`, or None to use its task's."""
    return _entry(name)["adapt"]


def build_model(name, num_classes=None, input_shape=None, **kwargs):
    """Builds model `name` with random weights (see `zoo.create_model` for pretrained ones)."""
    entry = _entry(name)
    if num_classes is not None:  # else the builder's own default (10 digits, 2 sentiments, 1 value, ...)
        kwargs["num_classes"] = num_classes
    return entry["builder"](input_shape=tuple(input_shape or entry["input_shape"]), **kwargs)
