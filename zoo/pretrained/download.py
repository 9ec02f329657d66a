"""Getting a weights file: a local file or folder, or a URL downloaded into the cache.

Downloads go to `<file>.part`, resume with an HTTP Range request after an
interruption, are checked against the manifest's sha256 after every download
(keras-team/keras#12290 shipped corrupt fresh downloads), and only then are
renamed into place. Cached files are checked again on every load.
"""

import http.client
import logging
import os
import pathlib
import urllib.error
import urllib.parse
import urllib.request

from zoo.errors import ZooError
from zoo.pretrained.weights_file import sha256_of

TIMEOUT_SECONDS = 30
_BLOCK = 1 << 16
log = logging.getLogger(__name__)


def cache_dir():
    """`$ZOO_CACHE`, or `zoo/` in the user's cache folder (`$XDG_CACHE_HOME`, default `~/.cache`)."""
    if os.environ.get("ZOO_CACHE"):
        return pathlib.Path(os.environ["ZOO_CACHE"]).expanduser()
    return pathlib.Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "zoo"


def verified(path, sha256):
    """Returns `path` if its sha256 is `sha256`, else raises a ZooError naming both."""
    actual = sha256_of(path)
    if actual != sha256:
        raise ZooError(
            f"{path} has sha256 {actual} but the manifest expects {sha256}: the file is corrupt or "
            "not the one the manifest names; delete it (or fix the source) and load again."
        )
    return pathlib.Path(path)


def fetch(source, file_name, sha256, size=None):
    """Returns the path of a verified local copy of a weights file.

    Args:
        source: an `http(s)://` URL (downloaded into `cache_dir()/weights/`), a
            `file://` URL, a local file, or a local folder holding `file_name`.
        file_name: the file's name, as in the manifest.
        sha256: its expected hex sha256 digest.
        size: its expected size in bytes, to tell a truncated download.
    """
    source = str(source)
    if source.startswith("file://"):
        source = urllib.request.url2pathname(urllib.parse.urlparse(source).path)
    if not source.startswith(("http://", "https://")):
        path = pathlib.Path(source).expanduser()
        path = path / file_name if path.is_dir() else path
        if not path.is_file():
            raise ZooError(f"Weights file {str(path)!r} does not exist: pass a file, or a folder holding {file_name}.")
        return verified(path, sha256)
    destination = cache_dir() / "weights" / file_name
    if destination.is_file():
        if sha256_of(destination) == sha256:
            return destination
        log.warning("Cached %s does not match the manifest's sha256; downloading it again.", destination)
        destination.unlink()
    download(source, destination, sha256, size)
    return destination


def download(url, destination, sha256, size=None, max_attempts=5):
    """Downloads `url` to `destination` via `<destination>.part`, resuming and verifying.

    Another attempt follows an interrupted one as long as the previous one made
    progress; the `.part` file stays for the next call otherwise.
    """
    destination = pathlib.Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    log.info("Downloading %s to %s", url, destination)
    for attempt in range(1, max_attempts + 1):
        before = _size(part)
        try:
            _download_once(url, part, size)
        except urllib.error.HTTPError as error:
            raise ZooError(f"Could not download {url}: HTTP {error.code} {error.reason}.") from None
        except (OSError, http.client.HTTPException) as error:
            if _size(part) > before and attempt < max_attempts:
                continue  # progress: resume from where it stopped
            raise ZooError(
                f"Could not download {url} ({getattr(error, 'reason', None) or error}); "
                f"{_size(part)} bytes are kept in {part} for the next try to resume. Offline? Set "
                f"ZOO_CACHE to a folder holding weights/{destination.name}, or pass source=<a local copy>."
            ) from None
        break
    actual = sha256_of(part)
    if actual != sha256:
        part.unlink()
        raise ZooError(
            f"{url} downloaded with sha256 {actual} but the manifest expects {sha256}: the "
            "download was discarded. Load again to retry; if it fails again, the server holds another file."
        )
    os.replace(part, destination)


def _size(path):
    return path.stat().st_size if path.exists() else 0


def _download_once(url, part, size):
    """One request; appends to `part` from its current size. Raises OSError when cut short."""
    offset = _size(part)
    if size is not None and offset >= size:
        return
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS) as response:
        if response.status != 206:
            offset = 0  # the server sent the whole file
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length is not None else size
        with open(part, "ab" if offset else "wb") as f:
            for block in iter(lambda: response.read(_BLOCK), b""):
                f.write(block)
    received = _size(part)
    if expected is not None and received < expected:
        raise ConnectionError(f"connection closed after {received} of {expected} bytes")
