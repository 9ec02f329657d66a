"""Which of a run's checkpoints to resume from: the newest one that is intact.

A checkpoint is `epoch_<n>.weights.h5` and its metadata, `epoch_<n>.json`; `training_metadata.json`
names the newest. The files of the epoch before it stay, so that a damaged newest checkpoint (a
truncated weights file, an empty metadata file) falls back to the previous epoch instead of ending
every re-run in a traceback.
"""

import json
import pathlib
import re
import sys

from zoo.errors import ZooError

METADATA = "training_metadata.json"
_EPOCH_METADATA = re.compile(r"^epoch_(\d+)\.json$")


def epoch_metadata_name(epoch):
    return f"epoch_{epoch}.json"


def weights_name(epoch):
    return f"epoch_{epoch}.weights.h5"


def _metadata(path):
    """The metadata in `path`, or None if it is empty, torn or lacks what a resume needs."""
    try:
        metadata = json.loads(path.read_text())
        return metadata if isinstance(metadata["epoch"], int) and isinstance(metadata["weights"], str) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def weights_intact(path):
    """Whether `path` is an HDF5 weights file whose every array reads back (a truncated one does not)."""
    import h5py

    def read(name, item):
        if isinstance(item, h5py.Dataset):
            item[()]

    try:
        with h5py.File(path, "r") as weights:
            weights.visititems(read)
        return True
    except (OSError, ValueError, KeyError, RuntimeError):
        return False


def _sources(backup_dir):
    """The metadata files, the newest first: `training_metadata.json`, then `epoch_<n>.json` by epoch."""
    numbered = [(int(m.group(1)), p) for p in backup_dir.glob("epoch_*.json") if (m := _EPOCH_METADATA.match(p.name))]
    newest = backup_dir / METADATA
    return ([newest] if newest.exists() else []) + [path for _, path in sorted(numbered, reverse=True)]


def latest_checkpoint(backup_dir):
    """`(metadata, weights path)` of the newest intact checkpoint in `backup_dir`; None for a new run.

    Falling back past a damaged checkpoint prints a warning naming it; a `ZooError` names the damaged
    file and how to start over when no checkpoint is intact.
    """
    backup_dir = pathlib.Path(backup_dir)
    damaged = []
    for source in _sources(backup_dir):
        metadata = _metadata(source)
        weights = backup_dir / metadata["weights"] if metadata else None
        if metadata is None or not weights_intact(weights):
            damaged += [path for path in (weights or source,) if path not in damaged]
            continue
        if damaged:
            print(
                f"warning: {damaged[0]} is damaged (empty, truncated or unreadable): resuming from the "
                f"intact checkpoint of epoch {metadata['epoch']}.",
                file=sys.stderr,
                flush=True,
            )
        return metadata, weights
    if damaged:
        raise ZooError(
            f"The run's checkpoint {damaged[0]} is damaged (empty, truncated or unreadable) and no earlier one "
            f"is intact: delete {backup_dir} and run the same command to train this run again from epoch 1, "
            "or pass a new --model_dir."
        )
    return None


def stale_files(backup_dir, keep_epochs):
    """The checkpoint files of epochs other than `keep_epochs`."""
    keep = {name for epoch in keep_epochs for name in (weights_name(epoch), epoch_metadata_name(epoch))}
    return [path for path in pathlib.Path(backup_dir).glob("epoch_*") if path.name not in keep]
