"""The manifest of pretrained weights: one entry per `<model>_<dataset>`.

`manifest.json` (beside this file) maps entry names to what was trained and
how, and to the weights file (name, size, sha256, optional url). Shipped files
live in `weights/` beside the manifest. `scripts/train_pretrained.py` writes it.
"""

import difflib
import json
import pathlib

from zoo.errors import ZooError
from zoo.files import write_json
from zoo.pretrained.weights_file import sha256_of
from zoo.run_folder import RunFolder

FORMAT_VERSION = 1
MANIFEST_PATH = pathlib.Path(__file__).with_name("manifest.json")
ENCODER = "encoder"  # the `kind` of a text-encoder entry (zoo.pretrained.encoders): a preset, not a model


def is_encoder_entry(entry):
    """Whether the manifest `entry` is a text encoder to fine-tune rather than a model to load."""
    return entry.get("kind") == ENCODER


def read_manifest(path=None):
    """Returns `{entry name: entry dict}` from a manifest (default: the package's)."""
    path = pathlib.Path(path or MANIFEST_PATH)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ZooError(f"Cannot read the pretrained manifest {path} ({error}).") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ZooError(
            f"{path} has manifest format_version={manifest.get('format_version')!r}; this zoo "
            f"reads {FORMAT_VERSION}: upgrade zoo or regenerate it with scripts/train_pretrained.py."
        )
    return {name: dict(entry, name=name) for name, entry in manifest["entries"].items()}


def write_manifest(entries, path=None):
    """Writes `entries` (`{name: entry}`) as a manifest, atomically."""
    entries = {name: {k: v for k, v in entry.items() if k != "name"} for name, entry in entries.items()}
    write_json(path or MANIFEST_PATH, dict(format_version=FORMAT_VERSION, entries=dict(sorted(entries.items()))))


def weights_dir(manifest_path=None):
    """The folder of the files a manifest ships: `weights/` beside it."""
    return pathlib.Path(manifest_path or MANIFEST_PATH).with_name("weights")


def list_pretrained(model=None, manifest=None):
    """Returns the sorted entry names, all or those of one `model`."""
    return sorted(name for name, entry in read_manifest(manifest).items() if model in (None, entry["model"]))


def find_entry(name, manifest=None):
    """Returns the entry `name`, or the default entry of the model `name`."""
    entries = read_manifest(manifest)
    if name in entries:
        return entries[name]
    of_model = [entry for entry in entries.values() if entry["model"] == name]
    defaults = [entry for entry in of_model if entry["default"]]
    if defaults:
        return defaults[0]
    if of_model:
        raise ZooError(
            f"Model {name!r} has no default pretrained entry in {pathlib.Path(manifest or MANIFEST_PATH)}: "
            f"pass one of its entries by name ({', '.join(sorted(e['name'] for e in of_model))})."
        )
    close = difflib.get_close_matches(name, entries, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ZooError(
        f"No pretrained weights named {name!r}.{hint} Available: {', '.join(sorted(entries)) or 'none'} "
        "(an entry name, or a model name for its default entry)."
    )


def pretrained_info(name, manifest=None):
    """Returns a copy of the manifest entry `name` (or of model `name`'s default entry)."""
    return json.loads(json.dumps(find_entry(name, manifest)))


def entry_from_run(model_dir, weights_file, default, training_command):
    """The manifest entry of `weights_file`, saved from the finished run in `model_dir`.

    Args:
        model_dir: the run folder (config.json, metrics.json).
        weights_file: the shipped file, in `weights_dir()` of the manifest.
        default: whether it is its model's default entry.
        training_command: the command that reproduces the run.
    """
    folder, weights_file = RunFolder(model_dir).require_finished(), pathlib.Path(weights_file)
    config, metrics = folder.config(), folder.metrics()
    run, test = config["run"], metrics["test"]
    results = dict(test_quality=test)  # e.g. a generator's quality measures
    if "accuracy" in test:
        results = dict(
            test_accuracy=test["accuracy"],
            test_examples=test["num_examples"],
            macro_f1=test["macro_f1"],
            validation_accuracy=metrics["validation_accuracy"],
        )
    text = config["input_shape"] == []  # raw strings in; the run's builder options (e.g. its preset) rebuild it
    return dict(
        model=run["model"],
        task=run["task"],
        dataset=run["dataset"],
        default=default,
        builder_kwargs=run.get("options", {}) if text else {},
        num_classes=len(config["class_names"]),
        input=(
            dict(name="text", shape=[], dtype="string")
            if text
            else dict(name="pixels", shape=config["input_shape"], dtype="float32", range=[0, 255])
        ),
        class_names=config["class_names"],
        training_command=training_command,
        recipe=run["recipe"],
        seed=run["seed"],
        **results,
        num_parameters=metrics["num_parameters"],
        file=weights_file.name,
        format="compressed npz of float16 arrays keyed by Keras variable path",
        size_bytes=weights_file.stat().st_size,
        sha256=sha256_of(weights_file),
        url=None,
        versions=config["versions"],
    )
