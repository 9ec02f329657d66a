"""A safe reader of legacy (pre-zip) PyTorch state-dict files, without torch.

The legacy format is five pickles in a row (a magic number, the protocol
version, system info, the state dict whose tensors name their storages by
persistent id, and the list of storage keys), then for each key its element
count (int64) and raw little-endian bytes. The unpickler resolves only an
allow-list of globals to stand-ins of its own and refuses every other one, so
no code in the file runs; tensors come back as numpy arrays.
"""

import collections
import io
import pickle
import struct

import numpy as np

from zoo.errors import ZooError

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_STORAGES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    """A storage named in the state dict; its bytes come after the pickles."""

    def __init__(self, dtype, key, size):
        self.dtype, self.key, self.size, self.data = np.dtype(dtype), key, size, None


class _Tensor:
    """A tensor view of a storage until the storages are read."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)

    def array(self):
        data = self.storage.data
        itemsize = data.dtype.itemsize
        if self.shape and self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) >= len(data):
            raise ZooError(f"A tensor of shape {self.shape} runs past its storage {self.storage.key}.")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], self.shape, tuple(s * itemsize for s in self.stride), writeable=False
        )
        return np.array(view)


def _rebuild_tensor_v2(storage, offset, shape, stride, requires_grad=False, hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise ZooError("A tensor in the file does not point to a storage.")
    return _Tensor(storage, offset, shape, stride)


def _storage_type(name):
    def make(*_):
        raise ZooError(f"The file constructs a {name} directly, which a state dict does not do.")

    make.dtype = _STORAGES[name]
    return make


class _SafeUnpickler(pickle.Unpickler):
    """Resolves only `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` and `torch.*Storage`."""

    def __init__(self, file):
        super().__init__(file)
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGES:
            return _storage_type(name)
        raise ZooError(f"The weights file asks for {module}.{name}, which a plain state dict never needs: refused.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and hasattr(pid[1], "dtype")):
            raise ZooError(f"Unexpected persistent id in the weights file: {str(pid)[:80]}")
        _, storage_type, key, _location, size = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise ZooError("Storage views (old PyTorch < 0.4 files) are not supported.")
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, str(key), int(size))
        return self.storages[key]


def _load(file):
    return _SafeUnpickler(file).load()


def read_legacy_state_dict(path):
    """Returns `{name: numpy array}` from a legacy PyTorch state-dict file, or a one-line `ZooError`."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:2] == b"PK":
        raise ZooError(f"{path} is a zip-format PyTorch file, not the legacy format this reader takes.")
    stream = io.BytesIO(blob)
    try:
        if _load(stream) != MAGIC or _load(stream) != PROTOCOL_VERSION:
            raise ZooError(f"{path} is not a legacy PyTorch file (no magic number).")
        _load(stream)  # system info: endianness and type sizes
        unpickler = _SafeUnpickler(stream)
        state = unpickler.load()
        keys = _SafeUnpickler(stream).load()
        for key in keys:
            storage = unpickler.storages[str(key)] if str(key) in unpickler.storages else None
            (count,) = struct.unpack("<q", stream.read(8))
            nbytes = count * (storage.dtype.itemsize if storage else 1)
            raw = stream.read(nbytes)
            if storage is None or count != storage.size or len(raw) != nbytes:
                raise ZooError(f"{path} is truncated or inconsistent at storage {key}.")
            storage.data = np.frombuffer(raw, storage.dtype)
    except ZooError:
        raise
    except (pickle.UnpicklingError, EOFError, struct.error, ValueError, TypeError, AttributeError) as error:
        raise ZooError(f"{path} is not a readable legacy PyTorch state dict ({type(error).__name__}).") from None
    if not isinstance(state, dict):
        raise ZooError(f"{path} holds a {type(state).__name__}, not a state dict.")
    return {name: value.array() if isinstance(value, _Tensor) else value for name, value in state.items()}
