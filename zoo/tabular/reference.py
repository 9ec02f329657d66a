"""scikit-learn references fitted on the zoo's own split, and linear coefficients in original units.

Every reference trains on the training split only and is scored on the test
split with the zoo models' own metrics (`zoo.tabular.metrics.tabular_metrics`),
so the numbers compare one to one. Linear references see the features as the
zoo's linear models do: missing numbers imputed with the training means,
standardized with the training statistics, categories one-hot.
"""

import numpy as np
from sklearn import ensemble, linear_model
from threadpoolctl import threadpool_limits

from zoo.errors import ZooError
from zoo.tabular.inputs import REGRESSION, design_matrix, standardization
from zoo.tabular.metrics import tabular_metrics

RIDGE_ALPHAS = tuple(np.logspace(-3, 3, 13))
# HistGradientBoosting's categorical features must have fewer values than its bins.
MAX_NATIVE_CATEGORIES = 255


def feature_names(schema):
    """The names of the linear models' inputs: numbers, then one `column=value` per category."""
    return [entry["name"] for entry in schema["numeric"]] + [
        f"{entry['name']}={value}" for entry in schema["categorical"] for value in entry["vocabulary"]
    ]


def _native_matrix(features, schema):
    """Raw numbers (NaN kept) and category indices, for HistGradientBoosting."""
    parts = [features[key] for key in ("numeric", "categorical") if key in features]
    categorical = [False] * len(schema["numeric"]) + [
        len(entry["vocabulary"]) <= MAX_NATIVE_CATEGORIES for entry in schema["categorical"]
    ]
    return np.concatenate(parts, axis=1).astype(np.float64), np.array(categorical)


def _ridge(arrays, schema):
    """Ridge with the alpha of the lowest validation MSE, trained on the training split."""
    (train, y_train), (validation, y_validation) = arrays["train"], arrays["validation"]
    x_train, x_validation = design_matrix(train, schema), design_matrix(validation, schema)

    def validation_mse(alpha):
        model = linear_model.Ridge(alpha=alpha).fit(x_train, y_train)
        return np.mean((model.predict(x_validation) - y_validation) ** 2)

    return linear_model.Ridge(alpha=min(RIDGE_ALPHAS, key=validation_mse))


def _references(arrays, schema, seed):
    """`{name: (unfitted estimator, "linear" or "native" features)}` for the schema's task."""
    if schema["task"] == REGRESSION:
        return dict(
            linear_regression=(linear_model.LinearRegression(), "linear"),
            ridge=(_ridge(arrays, schema), "linear"),
            hist_gradient_boosting=(ensemble.HistGradientBoostingRegressor(random_state=seed), "native"),
        )
    return dict(
        logistic_regression=(linear_model.LogisticRegression(max_iter=10_000), "linear"),
        hist_gradient_boosting=(ensemble.HistGradientBoostingClassifier(random_state=seed), "native"),
    )


def _outputs(estimator, x, schema):
    """Predictions, or log-probabilities as logits over all the schema's classes."""
    if schema["task"] == REGRESSION:
        return estimator.predict(x)
    probabilities = np.zeros((len(x), len(schema["class_names"])))
    probabilities[:, estimator.classes_] = estimator.predict_proba(x)
    return np.log(np.clip(probabilities, 1e-12, 1.0))


def fit_references(arrays, schema, seed=0):
    """Fits the scikit-learn references on the training split; returns `{name: test metrics}`.

    Regression: `linear_regression` (ordinary least squares), `ridge` (alpha chosen
    on the validation split) and `hist_gradient_boosting`; classification:
    `logistic_regression` (L2, C=1) and `hist_gradient_boosting`. Gradient boosting
    takes the raw numbers with their missing values and the categories natively.

    Args:
        arrays: `splits.extras["arrays"]` of `zoo.datasets.tables.load_table_dataset`.
        schema: `splits.extras["schema"]`.
        seed: the boosting's random state.
    """
    (train, y_train), (test, y_test) = arrays["train"], arrays["test"]
    results = {}
    for name, (estimator, features) in _references(arrays, schema, seed).items():
        if features == "native":
            x_train, categorical = _native_matrix(train, schema)
            x_test, _ = _native_matrix(test, schema)
            estimator.set_params(categorical_features=categorical if categorical.any() else None)
        else:
            x_train, x_test = design_matrix(train, schema), design_matrix(test, schema)
        # One thread: on tables this small OpenMP's threads only wait for each other
        # (iris' boosting took 30 s instead of 0.1 s on a busy 2-core machine).
        with threadpool_limits(1, user_api="openmp"):
            estimator.fit(x_train, y_train)
        results[name] = tabular_metrics(_outputs(estimator, x_test, schema), y_test, schema)
    return results


def _named(kernel_rows, intercept, schema):
    """`{"intercept", "coefficients": {feature: value}}`, values per class for classifiers."""
    as_value = (lambda row: float(row[0])) if schema["task"] == REGRESSION else (lambda row: row.tolist())
    return dict(
        intercept=as_value(np.atleast_1d(intercept)),
        coefficients={name: as_value(row) for name, row in zip(feature_names(schema), kernel_rows)},
    )


def linear_coefficients(model, schema):
    """A trained zoo `linear_regression` or `logistic_regression`'s coefficients in original units.

    The model computes `w . (x - mean) / std + b` (times the target's std, plus its
    mean, for regression); in the raw features' units that is `coefficient = w / std`
    and `intercept = b - sum(w * mean / std)`. A category's coefficient is that of
    its one-hot column. Returns `{"intercept", "coefficients": {name: value}}` with
    `feature_names(schema)` as names; classifiers give one value per class (logits).
    """
    regression = schema["task"] == REGRESSION
    layer = model.get_layer("standardized" if regression else "logits")
    kernel, bias = (weights.astype(np.float64) for weights in layer.get_weights())
    scale, offset = (1.0, 0.0)
    if regression:
        scale, offset = np.sqrt(schema["target_variance"]) or 1.0, schema["target_mean"]
    numeric = len(schema["numeric"])
    if numeric:
        mean, std = standardization(schema)
        kernel[:numeric] /= std[:, None]
        bias = bias - mean @ kernel[:numeric]
    return _named(scale * kernel, scale * bias + offset, schema)


def sklearn_linear_coefficients(arrays, schema):
    """scikit-learn `LinearRegression`'s coefficients on the training split, in original units
    (the same features, imputed but not standardized), shaped as `linear_coefficients`.

    With categories, the one-hot columns and the intercept are collinear: scikit-learn
    returns the minimum-norm solution, so compare category coefficients by differences.
    """
    if schema["task"] != REGRESSION:
        raise ZooError("sklearn_linear_coefficients compares regressions; the schema is a classification.")
    train, labels = arrays["train"]
    estimator = linear_model.LinearRegression().fit(design_matrix(train, schema, standardize=False), labels)
    return _named(estimator.coef_[:, None], estimator.intercept_, schema)
