"""Attributions and robustness of zoo classifiers: `zoo.explain(model_or_dir, inputs)`.

(The package is `zoo.explainability`, so that `zoo.explain` stays the function.)

Integrated Gradients (Sundararajan et al. 2017) for image, text and table classifiers, Grad-CAM
(Selvaraju et al. 2017) for convolutional image models (`gradients`, `explainers`, `tables`);
FGSM and PGD attacks under an L-infinity budget in pixel units (`attacks`).
"""

from zoo.errors import ZooError
from zoo.explainability import explainers, gradients, tables
from zoo.explainability.explainers import METHODS, Explanation

__all__ = ["METHODS", "Explanation", "explain"]


def explain(model_or_dir, inputs, method="integrated_gradients", target=None, steps=None, baseline=None):
    """Attributions of a classifier's answers: Integrated Gradients (images, texts, table rows) or Grad-CAM
    (convolutional image models).

    Args:
        model_or_dir: a Keras model, a `.keras` file, or a finished run's `--model_dir`.
        inputs: raw images (0-255 pixels, one `(h, w, c)` or a batch), a string or strings, or table
            rows (dicts, a CSV file's path with a run's `--model_dir`, or `{numeric, categorical}` arrays).
        method: `integrated_gradients` or `grad_cam`.
        target: the class to explain (an int or one per input); default the predicted one.
        steps: trapezoid-rule intervals of Integrated Gradients (default 64).
        baseline: Integrated Gradients' baseline image (default black, all zeros); texts integrate from
            the padding token's embedding, table rows from the training means.

    Returns:
        an `Explanation` (`attributions`, `targets`, `scores`, `baseline_scores`, `tokens`, `feature_names`).
    """
    model, info = explainers.load_model(model_or_dir)
    return explain_loaded(model, info, inputs, method, target, steps, baseline)


def explain_loaded(model, info, inputs, method="integrated_gradients", target=None, steps=None, baseline=None):
    """`explain` on a loaded model; `info` may hold the run's `class_names` and table `schema`."""
    if method not in explainers.METHODS:
        raise ZooError(f"method is one of {', '.join(explainers.METHODS)}. Received: {method!r}")
    steps = checked_steps(steps)
    kind = explainers.input_kind(model)
    if kind == "image":
        explanation = explainers.explain_images(model, inputs, method, target, steps, baseline)
    elif kind == "text":
        explanation = explainers.explain_texts(model, inputs, method, target, steps)
    else:
        explanation = tables.explain_table(model, inputs, method, target, steps, info.get("schema"))
    explanation.class_names = info.get("class_names")
    return explanation


def checked_steps(steps):
    if steps is None:
        return gradients.DEFAULT_STEPS
    if int(steps) < 1:
        raise ZooError(f"steps must be a positive number of intervals. Received: {steps}")
    return int(steps)
