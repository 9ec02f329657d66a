"""Metrics that tasks report: classification metrics and confidence intervals."""

import math

import numpy as np
from sklearn import metrics as skm


def softmax(logits):
    exponentials = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def wilson_interval(accuracy, count, z=1.96):
    """The 95% Wilson score interval of a proportion measured on `count` examples."""
    if not count:
        return 0.0, 1.0
    center = (accuracy + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(accuracy * (1 - accuracy) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return max(0.0, center - half), min(1.0, center + half)


def classification_metrics(logits, labels, class_names):
    """Accuracy (with its 95% interval), macro-F1, per-class precision/recall, one-vs-rest AUC.

    Non-finite logits count as wrong answers and leave the AUC out (None).
    """
    logits = np.asarray(logits, np.float64)
    finite = np.isfinite(logits).all(axis=1)
    predictions = np.where(finite, np.nan_to_num(logits).argmax(axis=1), -1)
    all_labels = list(range(len(class_names)))
    precision, recall, _, support = skm.precision_recall_fscore_support(
        labels, predictions, labels=all_labels, zero_division=0
    )
    accuracy = float(np.mean(predictions == labels))
    return dict(
        accuracy=accuracy,
        accuracy_interval=list(wilson_interval(accuracy, len(labels))),
        macro_f1=float(skm.f1_score(labels, predictions, labels=all_labels, average="macro", zero_division=0)),
        auc_ovr=_one_vs_rest_auc(softmax(logits), labels) if finite.all() else None,
        num_examples=int(len(labels)),
        per_class={
            name: dict(precision=float(p), recall=float(r), support=int(s))
            for name, p, r, s in zip(class_names, precision, recall, support)
        },
    )


def _one_vs_rest_auc(probabilities, labels):
    """Macro one-vs-rest ROC AUC over the classes present in `labels`."""
    present = np.unique(labels)
    if len(present) < 2:
        return None
    return float(np.mean([skm.roc_auc_score(labels == c, probabilities[:, c]) for c in present]))


BOOTSTRAP_RESAMPLES = 1000


def r2_interval(predictions, labels, seed=0, resamples=BOOTSTRAP_RESAMPLES):
    """The 95% percentile bootstrap interval of R^2 (Efron 1979): `resamples` draws of
    the examples with replacement, from a fixed `seed`."""
    rows = np.random.default_rng(seed).integers(0, len(labels), (resamples, len(labels)))
    labels, predictions = labels[rows], predictions[rows]
    total = ((labels - labels.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    residual = ((labels - predictions) ** 2).sum(axis=1)
    r2 = 1 - residual[total > 0] / total[total > 0]
    if not len(r2):
        return [None, None]
    low, high = np.percentile(r2, [2.5, 97.5])
    return [float(low), float(high)]


def regression_metrics(predictions, labels, seed=0):
    """MSE, RMSE, MAE, R^2 with its 95% bootstrap interval, and the number of examples.

    Non-finite predictions (a diverged model) leave every metric but the count None.
    """
    predictions = np.asarray(predictions, np.float64).reshape(-1)
    labels = np.asarray(labels, np.float64).reshape(-1)
    if not np.isfinite(predictions).all():
        unknown = dict(mse=None, rmse=None, mae=None, r2=None, r2_interval=[None, None])
        return dict(unknown, num_examples=len(labels))
    mse = float(skm.mean_squared_error(labels, predictions))
    return dict(
        mse=mse,
        rmse=float(np.sqrt(mse)),
        mae=float(skm.mean_absolute_error(labels, predictions)),
        r2=float(skm.r2_score(labels, predictions)) if len(labels) > 1 else None,
        r2_interval=r2_interval(predictions, labels, seed),
        num_examples=int(len(labels)),
    )
