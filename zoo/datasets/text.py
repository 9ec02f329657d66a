"""Text-classification datasets: embedded MR sentences, line files, folders of text files, tfds.

Inputs are raw `tf.string` texts; the models tokenize them themselves.
"""

import gzip
import importlib.resources
import pathlib

import numpy as np
import tensorflow as tf

from zoo.datasets import from_tfds
from zoo.datasets.folders import class_files
from zoo.datasets.splits import Splits, split_arrays
from zoo.errors import ZooError

# tfds datasets whose test split has no labels (-1): their validation split is our test.
_UNLABELED_TEST_SPLIT = ("glue/", "super_glue/")


def _mr(seed, **unused):
    """The embedded MR sentence-polarity set (Pang and Lee 2005): 9,559 sentences, 2 classes."""
    path = importlib.resources.files("zoo.datasets") / "data/mr.tsv.gz"
    with path.open("rb") as f:
        lines = gzip.decompress(f.read()).decode("utf-8").split("\n")  # not splitlines(): texts hold \x85
    rows = [line.split("\t", 1) for line in lines if line]
    class_names = sorted({label for label, _ in rows})
    labels = np.array([class_names.index(label) for label, _ in rows])
    return split_arrays(np.array([text for _, text in rows], dtype=object), labels, seed), class_names


def _lines(path, seed, **unused):
    """One UTF-8 file per class, one example per line; the class is the file name without its extension.

    Blank lines, hidden files and README files are skipped.
    """
    root = pathlib.Path(path)
    if not root.is_dir():
        raise ZooError(f"Line-file folder {str(root)!r} does not exist or is not a folder.")
    files = sorted(
        f
        for f in root.iterdir()
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
    names = [f.stem if f.suffix else f.name for f in files]  # pos.txt -> pos
    twins = sorted({f.name for f in files if names.count(f.stem if f.suffix else f.name) > 1})
    if twins:
        raise ZooError(f"Files {twins} in {str(root)!r} name the same class: keep one file per class name.")
    splits = split_arrays(np.array(texts, dtype=object), np.array(labels), seed)
    return splits, names


def _folder(path, seed, **unused):
    """One sub-folder per class, one UTF-8 `.txt` file per example (the convention of
    `keras.utils.text_dataset_from_directory`); every file is read and checked up front."""
    class_names, files, labels = class_files(pathlib.Path(path), (".txt",), "text")
    texts = []
    for file in files:
        try:
            texts.append(pathlib.Path(file).read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ZooError(
                f"{file!r} is not UTF-8 text: re-encode it, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8`."
            ) from None
        except OSError as error:
            raise ZooError(f"Cannot read {file!r} ({error.strerror}): fix or delete it.") from None
    return split_arrays(np.array(texts, dtype=object), np.array(labels), seed), class_names


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
        name,
        data_dir,
        "lines:DIR, folder:DIR, or a tfds text-classification dataset "
        "name (e.g. imdb_reviews, glue/sst2, ag_news_subset)",
    )
    text_key, label_key = _text_and_label_keys(name, builder.info)
    split_names = from_tfds.split_names(builder, unlabeled_test=name.startswith(_UNLABELED_TEST_SPLIT))
    datasets = from_tfds.as_datasets(name, builder, split_names)

    def text_and_label(example):
        return example[text_key], tf.cast(example[label_key], tf.int64)

    datasets = [dataset.map(text_and_label) for dataset in datasets]
    return (datasets, from_tfds.digest(name, builder)), builder.info.features[label_key].names


def load_text_dataset(name, seed=0, data_dir=None):
    """Returns the `Splits` of a text dataset: unbatched `(tf.string text, int64 label)`.

    Args:
        name: `mr` (embedded), `lines:DIR` (one file per class, one example per line),
            `folder:DIR` (one sub-folder per class, one .txt file per example),
            or a tfds text-classification dataset name.
        seed: seed of the 80/10/10 train/validation/test split where the data has none.
        data_dir: tfds data directory.
    """
    kwargs = dict(seed=seed, data_dir=data_dir)
    if name == "mr":
        loaded = _mr(**kwargs)
    elif name.startswith("lines:"):
        loaded = _lines(name.removeprefix("lines:"), **kwargs)
    elif name.startswith("folder:"):
        loaded = _folder(name.removeprefix("folder:"), **kwargs)
    else:
        loaded = _tfds(name, **kwargs)
    ((train, validation, test), digest), class_names = loaded
    return Splits(
        name=name,
        train=train,
        validation=validation,
        test=test,
        class_names=list(class_names),
        input_shape=(),
        task="text_classification",
        augment_flip=False,
        digest=digest,
    )
