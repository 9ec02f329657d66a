"""The model card's attribution figure: Integrated Gradients for a few test examples the model got right
and a few it got wrong (#30), images as signed heatmaps, texts as coloured token strips."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zoo.errors import ZooError  # noqa: E402
from zoo.explainability import explain_loaded  # noqa: E402
from zoo.plots import save  # noqa: E402

PER_KIND = 3  # right and wrong examples each
MAX_TOKENS = 24
STEPS = 16  # Integrated Gradients intervals: enough for a picture, a quarter of the default's cost on big models
FILE = "attributions.png"
TITLE = "Integrated Gradients on test examples it got right and wrong (red: for the predicted class, blue: against)"


def chosen_examples(predictions, labels, count=PER_KIND):
    """Indices of the first `count` right and the first `count` wrong answers, right ones first."""
    right = np.flatnonzero(predictions == labels)[:count]
    wrong = np.flatnonzero(predictions != labels)[:count]
    return np.concatenate([right, wrong]).astype(int)


def _title(label, prediction, class_names):
    name = lambda i: class_names[i] if class_names and i < len(class_names) else str(i)
    mark = "right" if label == prediction else "wrong"
    return f"{mark}: true {name(label)}, read {name(prediction)}"


def _image_rows(inputs, explanation, titles):
    figure, axes = plt.subplots(2, len(inputs), figsize=(1.9 * len(inputs), 4.2), squeeze=False)
    for column, (image, heat, title) in enumerate(zip(inputs, explanation.attributions, titles)):
        grey = np.asarray(image, np.float32).mean(axis=-1)
        heat = np.asarray(heat, np.float64).sum(axis=-1)
        limit = max(np.percentile(np.abs(heat), 99), 1e-12)
        axes[0, column].imshow(grey, cmap="gray", vmin=0, vmax=255)
        axes[0, column].set_title(title, fontsize=7)
        axes[1, column].imshow(heat, cmap="bwr", vmin=-limit, vmax=limit)
        axes[1, column].imshow(grey, cmap="gray", vmin=0, vmax=255, alpha=0.15)
    for axis in axes.ravel():
        axis.axis("off")
    return figure


def _text_rows(inputs, explanation, titles):
    figure, axes = plt.subplots(len(inputs), 1, figsize=(10, 1.1 * len(inputs) + 0.6), squeeze=False)
    for axis, tokens, scores, title in zip(axes[:, 0], explanation.tokens, explanation.attributions, titles):
        tokens, scores = tokens[:MAX_TOKENS], np.asarray(scores[: len(tokens)][:MAX_TOKENS], np.float64)
        limit = max(np.abs(scores).max(), 1e-12) if len(scores) else 1.0
        axis.imshow(scores[None] if len(scores) else np.zeros((1, 1)), cmap="bwr", vmin=-limit, vmax=limit)
        axis.set_xticks(range(len(tokens)), tokens, rotation=45, ha="right", fontsize=7)
        axis.set_yticks([])
        axis.set_title(title, fontsize=8, loc="left")
    return figure


def write_attribution_figure(model, inputs, labels, predictions, class_names, path):
    """Draws Integrated Gradients of `model` (an image or zoo text classifier) on `inputs` (raw test
    examples, see `chosen_examples`) to `path`; returns False, drawing nothing, for a model that
    `zoo.explain` cannot explain (e.g. a table model or a multi-input text encoder)."""
    if not len(inputs):
        return False
    try:
        explanation = explain_loaded(model, dict(class_names=class_names), inputs, target=predictions, steps=STEPS)
    except ZooError:
        return False
    titles = [_title(int(y), int(p), class_names) for y, p in zip(labels, predictions)]
    if explanation.kind == "image":
        figure = _image_rows(np.asarray(inputs), explanation, titles)
    elif explanation.kind == "text":
        figure = _text_rows(inputs, explanation, titles)
    else:
        return False
    figure.suptitle(TITLE, fontsize=8)
    save(figure, path)
    return True
