"""Test metrics of tabular models, from `zoo.evaluation` (regression and classification)."""

import numpy as np

from zoo import evaluation
from zoo.evaluation import r2_interval, regression_metrics  # noqa: F401 (where they lived before)
from zoo.tabular.inputs import REGRESSION


def tabular_metrics(outputs, labels, schema):
    """A model's test metrics: `regression_metrics` of its predictions, or
    `zoo.evaluation.classification_metrics` of its logits."""
    if schema["task"] == REGRESSION:
        return regression_metrics(outputs, labels)
    return evaluation.classification_metrics(np.asarray(outputs), np.asarray(labels), schema["class_names"])
