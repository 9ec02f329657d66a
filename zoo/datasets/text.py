"""Text-classification datasets: line files, folders of text files, any tfds text dataset.

Inputs are raw `tf.string` texts; the models tokenize them themselves.
"""

import pathlib

import numpy as np
import tensorflow as tf

from zoo.datasets import from_tfds
from zoo.datasets.splits import Splits, shuffled_split_indices, split_arrays
from zoo.errors import ZooError

# tfds datasets whose test split has no labels (-1): their validation split is our test.
_UNLABELED_TEST_SPLIT = ("glue/", "super_glue/")


def _lines(path, seed, **unused):
    """One UTF-8 file per class, one example per line; the class is the file name.

    Blank lines, hidden files and README files are skipped.
    """
    root = pathlib.Path(path)
    if not root.is_dir():
        raise ZooError(f"Line-file folder {str(root)!r} does not exist or is not a folder.")
    files = sorted(
        f for f in root.iterdir()
        if f.is_file() and not f.name.startswith(".") and not f.name.upper().startswith("README")
    )
    if len(files) < 2:
        raise ZooError(
            f"Line-file folder {str(root)!r} needs at least two files (one per class, one "
            f"example per line). Received: {[f.name for f in files]}"
        )
    texts, labels = [], []
    for label, file in enumerate(files):
        try:
            # "\n" only: str.splitlines() would also split at \x1c, \x85, \u2028, ...
            lines = [line.strip() for line in file.read_text(encoding="utf-8").split("\n")]
        except UnicodeDecodeError:
            raise ZooError(
                f"{str(file)!r} is not UTF-8 text: re-encode it, e.g. "
                f"`iconv -f latin1 -t utf-8 {file.name} > {file.name}.utf8`."
            ) from None
        lines = [line for line in lines if line]
        if not lines:
            raise ZooError(f"{str(file)!r} holds no text: put one example per line in it.")
        texts += lines
        labels += [label] * len(lines)
    splits = split_arrays(np.array(texts, dtype=object), np.array(labels), seed)
    return splits, [f.name for f in files]


def _folder(path, seed, **unused):
    """One sub-folder per class, one `.txt` file per example (the convention of
    `keras.utils.text_dataset_from_directory`)."""
    root = pathlib.Path(path)
    if not root.is_dir():
        raise ZooError(f"Text folder {str(root)!r} does not exist or is not a folder.")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(class_dirs) < 2:
        raise ZooError(
            f"Text folder {str(root)!r} needs at least two sub-folders (one per class, "
            f"one .txt file per example). Received: {[d.name for d in class_dirs]}"
        )
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        texts = sorted(str(f) for f in class_dir.iterdir() if f.suffix.lower() == ".txt")
        if not texts:
            raise ZooError(f"Class folder {str(class_dir)!r} holds no .txt files.")
        files += texts
        labels += [label] * len(texts)

    def read(file, label):
        return tf.io.read_file(file), label

    files, labels = np.array(files), np.array(labels, np.int64)
    splits = [
        tf.data.Dataset.from_tensor_slices((files[idx], labels[idx])).map(read)
        for idx in shuffled_split_indices(len(files), seed)
    ]
    return splits, [d.name for d in class_dirs]


def _text_and_label_keys(name, info):
    """The (text, label) feature names: the supervised keys, or the only Text and
    ClassLabel features."""
    kinds = {key: type(feature).__name__ for key, feature in info.features.items()}
    keys = info.supervised_keys
    if not keys:
        texts = [key for key, kind in kinds.items() if kind == "Text"]
        labels = [key for key, kind in kinds.items() if kind == "ClassLabel"]
        keys = (texts[0], labels[0]) if len(texts) == len(labels) == 1 else ()
    if not (
        len(keys) == 2
        and all(isinstance(key, str) for key in keys)
        and (kinds.get(keys[0]), kinds.get(keys[1])) == ("Text", "ClassLabel")
    ):
        raise ZooError(
            f"tfds dataset {name!r} is not a text-classification dataset with one text and "
            f"one class-label feature. Received: features={kinds}"
        )
    return keys


def _tfds(name, seed, data_dir=None, **unused):
    """Any tfds text-classification dataset, prepared in `data_dir`."""
    builder = from_tfds.builder(
        name, data_dir, "lines:DIR, folder:DIR, or a tfds text-classification dataset "
        "name (e.g. imdb_reviews, glue/sst2, ag_news_subset)",
    )
    text_key, label_key = _text_and_label_keys(name, builder.info)
    split_names = from_tfds.split_names(builder, unlabeled_test=name.startswith(_UNLABELED_TEST_SPLIT))
    datasets = from_tfds.as_datasets(name, builder, split_names)

    def text_and_label(example):
        return example[text_key], tf.cast(example[label_key], tf.int64)

    datasets = [dataset.map(text_and_label) for dataset in datasets]
    return datasets, builder.info.features[label_key].names


def load_text_dataset(name, seed=0, data_dir=None):
    """Returns the `Splits` of a text dataset: unbatched `(tf.string text, int64 label)`.

    Args:
        name: `lines:DIR` (one file per class, one example per line),
            `folder:DIR` (one sub-folder per class, one .txt file per example),
            or a tfds text-classification dataset name.
        seed: seed of the 80/10/10 train/validation/test split where the data has none.
        data_dir: tfds data directory.
    """
    kwargs = dict(seed=seed, data_dir=data_dir)
    if name.startswith("lines:"):
        loaded = _lines(name.removeprefix("lines:"), **kwargs)
    elif name.startswith("folder:"):
        loaded = _folder(name.removeprefix("folder:"), **kwargs)
    else:
        loaded = _tfds(name, **kwargs)
    (train, validation, test), class_names = loaded
    return Splits(
        name=name,
        train=train,
        validation=validation,
        test=test,
        class_names=list(class_names),
        input_shape=(),
        task="text_classification",
        augment_flip=False,
    )
