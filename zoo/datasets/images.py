"""Image-classification datasets: embedded MNIST digits, scikit-learn digits,
any tfds dataset, and folders of images.
"""

import importlib.resources
import os
import pathlib

import numpy as np
import tensorflow as tf

from zoo.datasets import fashion_mnist_deb, from_tfds
from zoo.datasets.folders import class_files, empty_class
from zoo.datasets.splits import Splits, digest_of, shuffled_split_indices, split_arrays
from zoo.errors import ZooError
from zoo.memory import check_images_fit

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
DIGIT_NAMES = [str(i) for i in range(10)]


def _mnist_5k(seed, **unused):
    """5,000 real MNIST training digits (500 per class) embedded in the package."""
    path = importlib.resources.files("zoo.datasets") / "data/mnist_5k.npz"
    with path.open("rb") as f, np.load(f) as data:
        images, labels = data["images"][..., None], data["labels"]
    return split_arrays(images, labels, seed), DIGIT_NAMES, (28, 28, 1), False, {}


def _digits(seed, **unused):
    """scikit-learn's 1,797 8x8 digits, rescaled from 0-16 to 0-255 pixels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    return split_arrays(images, digits.target, seed), DIGIT_NAMES, (8, 8, 1), False, {}


def _decoded_or_none(file):
    try:
        return tf.io.decode_image(tf.io.read_file(file), expand_animations=False)
    except (tf.errors.OpError, ValueError):
        return None


def _checked_images(files, labels, skip_bad_files):
    """Decodes every file once, before training; returns the good files, labels, bad files and first image."""
    good, good_labels, bad, first = [], [], [], None
    for file, label in zip(files, labels):
        image = _decoded_or_none(file)
        if image is None or 0 in image.shape:
            bad.append(file)
            continue
        first = image if first is None else first
        good.append(file)
        good_labels.append(label)
    if bad and not skip_bad_files:
        shown = ", ".join(repr(f) for f in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ZooError(
            f"{len(bad)} image file(s) cannot be decoded: {shown}. Fix or delete them, or pass "
            "--skip_bad_files to train without them."
        )
    return good, good_labels, bad, first


def _check_no_class_emptied(root, class_names, labels, skipped_labels):
    """A class whose every file was left out (`skip_bad_files`) is the same error as an empty class folder."""
    kept = set(labels)
    for label, name in enumerate(class_names):
        if label not in kept:
            raise empty_class(root / name, IMAGE_EXTENSIONS, "image", skipped=skipped_labels.count(label))


def _folder(path, seed, image_size=None, skip_bad_files=False, **unused):
    """One sub-folder per class; images resized to `image_size` (default: the first one's).

    Every file is decoded once up front: a file that cannot be read is an error
    naming it (or, with `skip_bad_files`, left out and recorded in `notes`).
    """
    class_names, found, found_labels = class_files(pathlib.Path(path), IMAGE_EXTENSIONS, "image")
    files, labels, bad, first = _checked_images(found, found_labels, skip_bad_files)
    label_of = dict(zip(found, found_labels))
    _check_no_class_emptied(pathlib.Path(path), class_names, labels, [label_of[file] for file in bad])
    channels = 1 if first.shape[-1] == 1 else 3
    height, width = image_size or first.shape[:2]
    check_images_fit(len(files), (height, width, channels))

    def load(file, label):
        image = tf.io.decode_image(tf.io.read_file(file), channels=channels, expand_animations=False)
        image = tf.image.resize(image, (height, width))
        return tf.ensure_shape(image, (height, width, channels)), label

    files, labels = np.array(files), np.array(labels, np.int64)
    indices = shuffled_split_indices(len(files), seed)
    splits = [
        tf.data.Dataset.from_tensor_slices((files[idx], labels[idx])).map(load, num_parallel_calls=tf.data.AUTOTUNE)
        for idx in indices
    ]
    identities = [[f"{files[i]}:{os.path.getsize(files[i])}:{labels[i]}" for i in idx] for idx in indices]
    notes = dict(skipped_files=bad) if bad else {}
    return (splits, digest_of(identities)), class_names, (height, width, channels), channels == 3, notes


def _tfds(name, seed, data_dir=None, image_size=None, **unused):
    """Any tfds image dataset with `image` and `label` features, prepared in `data_dir`."""
    builder = from_tfds.builder(
        name,
        data_dir,
        "mnist_5k, digits, folder:DIR, or a tfds image-classification "
        "dataset name (e.g. mnist, fashion_mnist, cifar10)",
    )
    features = {key: type(feature).__name__ for key, feature in builder.info.features.items()}
    if (features.get("image"), features.get("label")) != ("Image", "ClassLabel"):
        raise ZooError(
            f"tfds dataset {name!r} is not an image-classification dataset (an `image` and a `label` feature). "
            f"Received: features={features}"
        )
    image_shape = builder.info.features["image"].shape
    if image_size:
        image_shape = (*image_size, image_shape[-1])
    elif None in image_shape:
        raise ZooError(f"tfds dataset {name!r} has images of varying size: pass --image_size.")

    check_images_fit(sum(split.num_examples for split in builder.info.splits.values()), image_shape)

    def resize(image, label):
        return tf.image.resize(image, image_shape[:2]), label

    datasets = from_tfds.as_datasets(name, builder, from_tfds.split_names(builder), as_supervised=True)
    datasets = [dataset.map(resize) for dataset in datasets]
    flip = image_shape[-1] == 3
    digest = from_tfds.digest(name, builder)
    return (datasets, digest), builder.info.features["label"].names, tuple(image_shape), flip, {}


def load_image_dataset(name, seed=0, data_dir=None, image_size=None, skip_bad_files=False):
    """Returns the `Splits` of an image dataset with float32 raw (0-255) pixels.

    Args:
        name: `mnist_5k` (default, embedded), `digits`, `folder:DIR`, or a tfds name.
        seed: seed of the train/validation/test split where the data has none.
        data_dir: tfds data directory.
        image_size: `(height, width)` to resize folder or tfds images to.
        skip_bad_files: leave out folder images that cannot be decoded (else an error names them).
    """
    if image_size and name in ("mnist_5k", "digits"):
        raise ZooError(f"{name} has a fixed image size; image_size resizes folder and tfds images only: drop it.")
    if image_size and (len(image_size) != 2 or min(image_size) < 1 or max(image_size) > 4096):
        raise ZooError(f"image_size takes HEIGHT,WIDTH between 1 and 4096 pixels. Received: {image_size}")
    kwargs = dict(seed=seed, data_dir=data_dir, image_size=image_size, skip_bad_files=skip_bad_files)
    if name == "mnist_5k":
        loaded = _mnist_5k(**kwargs)
    elif name == "digits":
        loaded = _digits(**kwargs)
    elif name == fashion_mnist_deb.NAME:
        loaded = fashion_mnist_deb.load(**kwargs)
    elif name.startswith("folder:"):
        loaded = _folder(name.removeprefix("folder:"), **kwargs)
    else:
        loaded = _tfds(name, **kwargs)
    ((train, validation, test), digest), class_names, input_shape, flip, notes = loaded

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
        digest=digest,
        notes=notes,
    )
