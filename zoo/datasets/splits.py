"""Train/validation/test splits and the tf.data pipelines built from them."""

import dataclasses
import hashlib

import numpy as np
import tensorflow as tf

from zoo.datasets.augment import random_affine
from zoo.errors import ZooError

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


@dataclasses.dataclass
class Splits:
    """A dataset's unbatched `(input, int label)` splits and what describes them.

    `input_shape` is the shape of one raw input; `task` tells the apps how to
    batch and augment it; `augment_flip` says whether to flip images left-right
    when augmenting (color images only: never digits or text); `digest` is a
    sha256 of the examples in each split, so a resumed run can tell that its
    data changed.
    """

    name: str
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list
    input_shape: tuple
    task: str = "image_classification"
    augment_flip: bool = False
    digest: str = None  # identifies which examples went to which split
    notes: dict = dataclasses.field(default_factory=dict)  # for config.json, e.g. skipped files
    extras: dict = dataclasses.field(default_factory=dict)  # task-specific: schemas, arrays, ...

    @property
    def num_classes(self):
        return len(self.class_names)


def shuffled_split_indices(num_examples, seed, fractions=SPLIT_FRACTIONS):
    """Returns train/validation/test index arrays of a seeded permutation."""
    order = np.random.default_rng(seed).permutation(num_examples)
    n_train = int(round(fractions[0] * num_examples))
    n_val = int(round(fractions[1] * num_examples))
    if min(n_train, n_val, num_examples - n_train - n_val) < 1:
        raise ZooError(
            f"{num_examples} examples are too few to split 80/10/10 into train, validation and test: "
            "add examples (at least 10; a few hundred for a meaningful test score)."
        )
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


def digest_of(splits):
    """A sha256 of three sequences of examples (identities such as file names, or the data itself)."""
    digest = hashlib.sha256()
    for name, examples in zip(("train", "validation", "test"), splits):
        digest.update(name.encode())
        for example in examples:
            digest.update(example if isinstance(example, bytes) else str(example).encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


def split_arrays(inputs, labels, seed):
    """Splits in-memory arrays into three unbatched `tf.data` datasets; returns them and their digest."""
    indices = shuffled_split_indices(len(labels), seed)
    labels = np.asarray(labels)
    labels = labels.astype(np.float32 if labels.dtype.kind == "f" else np.int64)  # class ids, or regression targets
    datasets = [tf.data.Dataset.from_tensor_slices((inputs[idx], labels[idx])) for idx in indices]
    examples = [[_bytes(inputs[i]) + str(labels[i]).encode() for i in idx] for idx in indices]
    return datasets, digest_of(examples)


def _bytes(value):
    return value.encode("utf-8") if isinstance(value, str) else np.asarray(value).tobytes()


def batched(dataset, batch_size, shuffle_seed=None, augment=False, flip=False):
    """Cache, (shuffle), batch, (augment) and prefetch one split.

    Args:
        dataset: unbatched `(input, label)` pairs.
        batch_size: examples per batch.
        shuffle_seed: reshuffle every epoch from this seed; None keeps the order.
        augment: apply `random_affine` to float image batches.
        flip: allow left-right flips when augmenting.
    """
    dataset = dataset.cache()
    if shuffle_seed is not None:
        buffer_size = int(dataset.cardinality())
        dataset = dataset.shuffle(
            buffer_size if buffer_size > 0 else 10_000,
            seed=shuffle_seed,
            reshuffle_each_iteration=True,
        )
    dataset = dataset.batch(batch_size)
    if augment:
        seeds = tf.data.Dataset.random(seed=shuffle_seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(dataset, seeds.batch(2)).map(
            lambda batch, seed: (random_affine(batch[0], seed, flip=flip), batch[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
