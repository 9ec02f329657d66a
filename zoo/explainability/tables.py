"""Integrated Gradients for table rows: over the raw numeric features, from the training means.

The baseline is the row with every number at its training mean (what the model imputes for a
missing value, and 0 once standardized), so a missing number gets attribution 0. Category columns
stay at the row's values along the whole path: they are held fixed, not attributed.
"""

import numpy as np

from zoo.errors import ZooError
from zoo.explainability import gradients
from zoo.explainability.explainers import Explanation, chosen_targets


def table_features(model, rows, schema):
    """The raw features dict `{numeric: (n, f), categorical: (n, c)}` of `rows`: such a dict, an array of
    numbers, or (with the run's schema) row dicts or a CSV file's path."""
    names = [tensor.name for tensor in model.inputs]
    if "numeric" not in names:
        raise ZooError(f"{model.name} has no numeric features: Integrated Gradients attributes numbers only.")
    if isinstance(rows, np.ndarray) and names == ["numeric"]:
        rows = dict(numeric=rows)
    if not (isinstance(rows, dict) and rows and set(rows) <= {"numeric", "categorical"}):
        if not schema:
            raise ZooError("Explaining table rows needs the run's schema: pass the run's --model_dir.")
        from zoo.tasks.tabular_plots import encode_rows

        rows = encode_rows(rows, schema)
    features = {name: np.atleast_2d(np.asarray(rows[name])) for name in names if name in rows}
    if set(features) != set(names):
        raise ZooError(f"{model.name} takes {names}. Received: {sorted(rows)}")
    features["numeric"] = features["numeric"].astype(np.float32)
    return features


def explain_table(model, rows, method, target, steps, schema=None):
    if method != "integrated_gradients":
        raise ZooError(f"{method} explains convolutional image models; table rows take integrated_gradients.")
    features = table_features(model, rows, schema)
    means = np.asarray(model.get_layer("impute").mean, np.float32)
    numeric = np.where(np.isnan(features["numeric"]), means, features["numeric"]).astype(np.float32)
    targets = chosen_targets(np.asarray(model(features, training=False)), target)
    rows = []
    for index, (x, t) in enumerate(zip(numeric, targets)):
        fixed = {name: value[index : index + 1] for name, value in features.items()}

        def score(points, fixed=fixed, t=t):
            batch = {name: np.repeat(value, points[0].shape[0], axis=0) for name, value in fixed.items()}
            return gradients.target_scores(model({**batch, "numeric": points[0]}, training=False), t)

        rows.append(gradients.integrated_gradients(score, [x], [means], steps))
    names = [entry["name"] for entry in schema["numeric"]] if schema else [f"x{i}" for i in range(len(means))]
    attributions = np.stack([row[0][0] for row in rows])
    scores, baseline_scores = (np.array([row[i] for row in rows]) for i in (1, 2))
    return Explanation("table", method, attributions, targets, scores, baseline_scores, feature_names=names)
