"""Image-classification datasets: embedded MNIST digits, scikit-learn digits,
any tfds dataset, and folders of images.
"""

import importlib.resources
import pathlib

import numpy as np
import tensorflow as tf

from zoo.datasets import from_tfds
from zoo.datasets.splits import Splits, shuffled_split_indices, split_arrays
from zoo.errors import ZooError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
DIGIT_NAMES = [str(i) for i in range(10)]


def _mnist_5k(seed, **unused):
    """5,000 real MNIST training digits (500 per class) embedded in the package."""
    path = importlib.resources.files("zoo.datasets") / "data/mnist_5k.npz"
    with path.open("rb") as f, np.load(f) as data:
        images, labels = data["images"][..., None], data["labels"]
    return split_arrays(images, labels, seed), DIGIT_NAMES, (28, 28, 1), False


def _digits(seed, **unused):
    """scikit-learn's 1,797 8x8 digits, rescaled from 0-16 to 0-255 pixels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    return split_arrays(images, digits.target, seed), DIGIT_NAMES, (8, 8, 1), False


def _folder(path, seed, image_size=None, **unused):
    """One sub-folder per class; images resized to `image_size` (default: the first one's)."""
    root = pathlib.Path(path)
    if not root.is_dir():
        raise ZooError(f"Image folder {str(root)!r} does not exist or is not a folder.")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir())
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        images = sorted(
            str(f) for f in class_dir.iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS
        )
        files += images
        labels += [label] * len(images)
    if len(set(labels)) < 2:
        raise ZooError(
            f"Image folder {str(root)!r} needs at least two sub-folders of images "
            f"(one per class, {'/'.join(IMAGE_EXTENSIONS)})."
        )
    first = tf.io.decode_image(tf.io.read_file(files[0]), expand_animations=False)
    channels = 1 if first.shape[-1] == 1 else 3
    height, width = image_size or first.shape[:2]

    def load(file, label):
        image = tf.io.decode_image(
            tf.io.read_file(file), channels=channels, expand_animations=False
        )
        image = tf.image.resize(image, (height, width))
        return tf.ensure_shape(image, (height, width, channels)), label

    files, labels = np.array(files), np.array(labels, np.int64)
    splits = [
        tf.data.Dataset.from_tensor_slices((files[idx], labels[idx])).map(
            load, num_parallel_calls=tf.data.AUTOTUNE
        )
        for idx in shuffled_split_indices(len(files), seed)
    ]
    flip = channels == 3
    return splits, [d.name for d in class_dirs], (height, width, channels), flip


def _tfds(name, seed, data_dir=None, image_size=None, **unused):
    """Any tfds image dataset with `image` and `label` features, prepared in `data_dir`."""
    builder = from_tfds.builder(
        name, data_dir, "mnist_5k, digits, folder:DIR, or a tfds image-classification "
        "dataset name (e.g. mnist, fashion_mnist, cifar10)",
    )
    image_shape = builder.info.features["image"].shape
    if image_size:
        image_shape = (*image_size, image_shape[-1])
    elif None in image_shape:
        raise ZooError(f"tfds dataset {name!r} has images of varying size: pass --image_size.")

    def resize(image, label):
        return tf.image.resize(image, image_shape[:2]), label

    datasets = from_tfds.as_datasets(name, builder, from_tfds.split_names(builder), as_supervised=True)
    datasets = [dataset.map(resize) for dataset in datasets]
    flip = image_shape[-1] == 3
    return datasets, builder.info.features["label"].names, tuple(image_shape), flip


def load_image_dataset(name, seed=0, data_dir=None, image_size=None):
    """Returns the `Splits` of an image dataset with float32 raw (0-255) pixels.

    Args:
        name: `mnist_5k` (default, embedded), `digits`, `folder:DIR`, or a tfds name.
        seed: seed of the train/validation/test split where the data has none.
        data_dir: tfds data directory.
        image_size: `(height, width)` to resize folder or tfds images to.
    """
    kwargs = dict(seed=seed, data_dir=data_dir, image_size=image_size)
    if name == "mnist_5k":
        loaded = _mnist_5k(**kwargs)
    elif name == "digits":
        loaded = _digits(**kwargs)
    elif name.startswith("folder:"):
        loaded = _folder(name.removeprefix("folder:"), **kwargs)
    else:
        loaded = _tfds(name, **kwargs)
    (train, validation, test), class_names, input_shape, flip = loaded

    def to_float(image, label):
        return tf.cast(image, tf.float32), label

    return Splits(
        name=name,
        train=train.map(to_float),
        validation=validation.map(to_float),
        test=test.map(to_float),
        class_names=list(class_names),
        input_shape=tuple(input_shape),
        augment_flip=flip,
    )
