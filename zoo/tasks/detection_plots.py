"""The detection head's plots: test scenes with true and predicted boxes, precision-recall curves."""

import numpy as np

from zoo.plots import plt, save

SCENES_SHOWN = 12
MIN_SCORE_SHOWN = 0.3


def _rectangle(axis, box, color):
    x1, y1, x2, y2 = box
    axis.add_patch(plt.Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, color=color, linewidth=1))


def plot_scenes(outputs, path):
    """Up to `SCENES_SHOWN` test images with true boxes (green) and detections >= `MIN_SCORE_SHOWN` (red)."""
    count = len(outputs["images"])
    columns = min(count, 4)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    names = outputs["class_names"]
    for axis in axes.ravel():
        axis.axis("off")
    for axis, image, (boxes, scores, classes), truth in zip(
        axes.ravel(), outputs["images"], outputs["found"], outputs["boxes"]
    ):
        pixels = np.asarray(image)
        axis.imshow(pixels[..., 0] if pixels.shape[-1] == 1 else pixels.astype(np.uint8), cmap="gray")
        for box in truth:
            _rectangle(axis, box, "lime")
        for box, score, label in zip(boxes, scores, classes):
            if score >= MIN_SCORE_SHOWN:
                _rectangle(axis, box, "red")
                axis.text(box[0], box[1] - 1, f"{names[label]} {score:.2f}", color="red", fontsize=7)
    save(figure, path)


def plot_pr_curves(curve, path):
    """Precision against recall per class (COCOeval's 101 recall points, IoU 0.5)."""
    figure, axis = plt.subplots(figsize=(6, 5))
    for name, precision in curve["precision"].items():
        axis.plot(curve["recall"], np.maximum(precision, 0), label=name)
    axis.set(xlabel="recall", ylabel="precision", title="Precision-recall at IoU 0.5 (test split)", ylim=(0, 1.02))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    save(figure, path)
