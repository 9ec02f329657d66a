"""Pictures of explanations: heatmap overlays (PNG) for images, coloured tokens (HTML) for texts, bars (PNG)
for table rows."""

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zoo.files import write_text  # noqa: E402
from zoo.plots import save  # noqa: E402

MAX_BARS = 20


def class_name(explanation, index):
    target = int(explanation.targets[index])
    names = explanation.class_names
    return names[target] if names and target < len(names) else str(target)


def image_overlay(image, attributions, method, title, path):
    """The image in grey, and beside it Grad-CAM in `jet` over the image, or Integrated Gradients signed
    (red for the class, blue against; summed over colour channels) under a faint copy of the image."""
    image = np.asarray(image, np.float32)
    grey = image.mean(axis=-1) if image.ndim == 3 else image
    heat = np.asarray(attributions, np.float64)
    heat = heat.sum(axis=-1) if heat.ndim == 3 else heat
    figure, axes = plt.subplots(1, 2, figsize=(6, 3.2))
    axes[0].imshow(grey, cmap="gray", vmin=0, vmax=255)
    if method == "grad_cam":
        axes[1].imshow(grey, cmap="gray", vmin=0, vmax=255)
        axes[1].imshow(heat, cmap="jet", alpha=0.5, vmin=0, vmax=max(heat.max(), 1e-12))
    else:  # the signed map (colours saturate at the 99th percentile of sizes), with the image faintly over it
        limit = max(np.percentile(np.abs(heat), 99), 1e-12)
        axes[1].imshow(heat, cmap="bwr", vmin=-limit, vmax=limit)
        axes[1].imshow(grey, cmap="gray", vmin=0, vmax=255, alpha=0.15)
    for axis in axes:
        axis.axis("off")
    axes[0].set_title("input", fontsize=9)
    axes[1].set_title(method.replace("_", " "), fontsize=9)
    figure.suptitle(title, fontsize=9)
    save(figure, path)


def token_lines(tokens, scores):
    """`token  score` lines, in text order."""
    return [f"{token:<20} {score:+.4f}" for token, score in zip(tokens, scores)]


def token_html(rows, path):
    """An HTML page: each text's tokens on a background red (for the explained class) or blue (against),
    stronger for larger scores; `rows` are `(title, tokens, scores)`."""
    parts = ["<!doctype html><meta charset='utf-8'><title>zoo explain</title><body style='font-family:sans-serif'>"]
    for title, tokens, scores in rows:
        limit = max(np.abs(scores).max(), 1e-12) if len(scores) else 1.0
        spans = []
        for token, score in zip(tokens, scores):
            colour = "220,40,40" if score > 0 else "40,80,220"
            spans.append(
                f"<span title='{score:+.4f}' style='background:rgba({colour},{abs(score) / limit:.2f});"
                f"padding:2px;margin:1px'>{html.escape(token)}</span>"
            )
        parts.append(f"<h3>{html.escape(title)}</h3><p style='font-size:1.3em'>{' '.join(spans)}</p>")
    parts.append("<p>Integrated Gradients on the token embeddings: red pushes towards the class, blue away.</p>")
    write_text(path, "\n".join(parts) + "\n")


def feature_bars(names, scores, title, path):
    """Horizontal bars of the `MAX_BARS` largest attributions by size, largest at the top."""
    order = np.argsort(-np.abs(scores), kind="stable")[:MAX_BARS][::-1]
    figure, axis = plt.subplots(figsize=(7, 0.35 * len(order) + 1.2))
    values = np.asarray(scores)[order]
    axis.barh([names[i] for i in order], values, color=["#d62728" if v > 0 else "#1f77b4" for v in values])
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel("Integrated Gradients attribution (logit units; baseline: training means)")
    axis.set_title(title, fontsize=9)
    save(figure, path)
