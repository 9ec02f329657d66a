"""A shipped entry as a finished run folder, so that `export.export_run` (and the card) take it like any run."""

import pathlib

from zoo.files import atomic_path, write_json
from zoo.pretrained.loading import load_pretrained
from zoo.pretrained.manifest import pretrained_info


def entry_run_folder(name, run_dir, manifest_path=None):
    """Writes `run_dir` (model.keras, config.json, metrics.json) for the classifier entry `name`; returns its path.

    The run's settings (task, dataset, seed, options) are the entry's, so its data, splits and export inputs
    are the ones it was trained and measured on.
    """
    entry = pretrained_info(name, manifest_path)
    model = load_pretrained(name, manifest_path=manifest_path)
    run_dir = pathlib.Path(run_dir)
    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    run = dict(
        model=entry["model"],
        task=entry.get("task", "image_classification"),
        dataset=entry["dataset"],
        seed=entry["seed"],
        options=entry.get("options", {}),
        recipe=entry["recipe"],
    )
    write_json(
        run_dir / "config.json",
        dict(run=run, input_shape=entry.get("input", {}).get("shape"), class_names=entry.get("class_names", [])),
    )
    write_json(run_dir / "metrics.json", dict(model=entry["model"], dataset=entry["dataset"]))
    return run_dir
