"""Atomic file writes: a reader sees the old file or the complete new one, never half."""

import contextlib
import json
import os
import pathlib
import re
import shutil

_TEMPORARY = re.compile(r"^\.(tmp|old)-(\d+)-")


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; on success renames it onto `path`.

    The temporary name keeps `path`'s full name as a suffix (`.tmp-123-model.keras`),
    so writers that check extensions accept it. Works for files and folders.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    _remove(tmp)
    try:
        yield tmp
        if path.is_dir():
            old = path.with_name(f".old-{os.getpid()}-{path.name}")
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    finally:
        _remove(tmp)


def _remove(path):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path, data):
    """Writes `data` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def process_alive(pid):
    """Whether a process `pid` runs (as far as this user can tell)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder):
    """Deletes the `.tmp-<pid>-*` and `.old-<pid>-*` leftovers of writers that died (their pid is gone)."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        match = _TEMPORARY.match(path.name)
        if match and (int(match.group(2)) != os.getpid()) and not process_alive(int(match.group(2))):
            _remove(path)
