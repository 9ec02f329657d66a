"""Fashion-MNIST from Debian's `dataset-fashion-mnist` package (MIT; Xiao et al. 2017).

70,000 28x28 grayscale clothing images in IDX files under /usr/share/datasets/fashion-mnist/:
the 60,000 training images are split 90/10 into train and validation with the run's seed, and the
official 10,000 test images are the test split.
"""

import gzip
import hashlib
import pathlib

import numpy as np
import tensorflow as tf

from zoo.errors import ZooError

NAME = "fashion_mnist_deb"
ROOT = pathlib.Path("/usr/share/datasets/fashion-mnist")
INSTALL = "sudo apt-get install -y dataset-fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FILES = {"train": "train-{}-idx{}-ubyte.gz", "test": "t10k-{}-idx{}-ubyte.gz"}


def _idx(path, magic):
    """The array of a gzipped IDX file (big-endian header: magic, then one uint32 per dimension)."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise ZooError(f"Cannot read {path} ({error}): reinstall it with {INSTALL}.") from None
    dims = magic & 0xFF
    header = np.frombuffer(data[: 4 + 4 * dims], ">u4")
    if header[0] != magic or len(data) != 4 + 4 * dims + int(np.prod(header[1:])):
        raise ZooError(f"{path} is not the IDX file it should be: reinstall it with {INSTALL}.")
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(header[1:])


def load_arrays(root=ROOT):
    """`{"train": (images (N, 28, 28, 1) uint8, labels), "test": ...}`; one line with the install command if missing."""
    root = pathlib.Path(root)
    if not (root / FILES["test"].format("images", 3)).is_file():
        raise ZooError(f"Fashion-MNIST is not installed in {root}: {INSTALL}")
    arrays = {}
    for split, pattern in FILES.items():
        images = _idx(root / pattern.format("images", 3), 0x803)[..., None]
        labels = _idx(root / pattern.format("labels", 1), 0x801).astype(np.int64)
        if len(images) != len(labels) or labels.max() >= len(CLASS_NAMES):
            raise ZooError(f"{root}: the {split} images and labels do not match: reinstall with {INSTALL}.")
        arrays[split] = images, labels
    return arrays


def load(seed, image_size=None, **unused):
    """What `zoo.datasets.images` takes: `((train, validation, test), digest)`, class names, shape, flip, notes."""
    arrays = load_arrays()
    (images, labels), test = arrays["train"], arrays["test"]
    order = np.random.default_rng(seed).permutation(len(labels))
    n_validation = len(labels) // 10
    parts = [(images[order[n_validation:]], labels[order[n_validation:]])]
    parts += [(images[order[:n_validation]], labels[order[:n_validation]]), test]
    shape = (*(image_size or (28, 28)), 1)

    def resize(image, label):
        return tf.image.resize(tf.cast(image, tf.float32), shape[:2]), label

    datasets = [tf.data.Dataset.from_tensor_slices(part) for part in parts]
    if image_size:
        datasets = [dataset.map(resize) for dataset in datasets]
    digest = hashlib.sha256(b"".join(a.tobytes() for part in parts for a in part)).hexdigest()
    return (datasets, digest), CLASS_NAMES, shape, False, {}
