"""Test metrics of tabular models: regression metrics here, classification ones from `zoo.evaluation`."""

import numpy as np
from sklearn import metrics as skm

from zoo import evaluation
from zoo.tabular.inputs import REGRESSION

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


def tabular_metrics(outputs, labels, schema):
    """A model's test metrics: `regression_metrics` of its predictions, or
    `zoo.evaluation.classification_metrics` of its logits."""
    if schema["task"] == REGRESSION:
        return regression_metrics(outputs, labels)
    return evaluation.classification_metrics(np.asarray(outputs), np.asarray(labels), schema["class_names"])
