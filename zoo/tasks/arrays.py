"""Splits as numpy arrays: a model's outputs on a split, and the inputs export checks files on."""

import numpy as np

AGREEMENT_EXAMPLES = 10_000  # at most this many training and validation inputs besides the test split


def predict_logits(model, dataset, batch_size=256):
    """Returns `(outputs, labels)` as numpy arrays for an unbatched split."""
    logits, labels = [], []
    for x, y in dataset.batch(batch_size):
        logits.append(np.asarray(model(x, training=False)))
        labels.append(y.numpy())
    return np.concatenate(logits), np.concatenate(labels)


def split_arrays(split, batch_size=1024, limit=None):
    """`(inputs, labels)` of an unbatched split as numpy arrays (its first `limit` examples)."""
    split = split if limit is None else split.take(limit)
    batches = list(split.batch(batch_size).as_numpy_iterator())
    if not batches:
        return None, None
    inputs, labels = zip(*batches)
    return np.concatenate(inputs), np.concatenate(labels)


def export_arrays(splits, limit=AGREEMENT_EXAMPLES):
    """Raw inputs for `ExportData`: training and validation inputs (at most `limit`), then the test split; and
    test labels."""
    test_inputs, test_labels = split_arrays(splits.test)
    others = splits.train.concatenate(splits.validation)
    other_inputs, _ = split_arrays(others, limit=limit)
    inputs = test_inputs if other_inputs is None else np.concatenate([other_inputs, test_inputs])
    return inputs, test_labels
