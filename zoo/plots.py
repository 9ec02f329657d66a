"""Plots a run writes: training curves and the confusion matrix."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from zoo.files import atomic_path  # noqa: E402


def plot_history(history, path, metrics=("loss", "accuracy")):
    """Plots `metrics` per epoch from history rows, training vs validation where logged."""
    epochs = [int(row["epoch"]) + 1 for row in history]
    metrics = [m for m in metrics if history and m in history[0]]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + metric in history[0]:
                axis.plot(epochs, [row.get(prefix + metric) for row in history], label=label)
        axis.set(xlabel="epoch", ylabel=metric, title=metric)
        axis.grid(alpha=0.3)
        axis.legend()
    save(figure, path)


def plot_confusion_matrix(predictions, labels, class_names, path):
    """Plots the test confusion matrix (rows: true class, columns: predicted)."""
    size = max(5, 0.5 * len(class_names))
    figure, axis = plt.subplots(figsize=(size, size))
    skm.ConfusionMatrixDisplay.from_predictions(
        labels,
        predictions,
        labels=list(range(len(class_names))),
        display_labels=class_names,
        ax=axis,
        colorbar=False,
        xticks_rotation="vertical" if len(class_names) > 10 else "horizontal",
    )
    axis.set_title("Confusion matrix (test split)")
    save(figure, path)


def save(figure, path):
    """Writes a figure as PNG atomically and closes it."""
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)


def plot_regression(predictions, labels, path, target="target"):
    """Predicted vs actual and the residuals, side by side."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(labels, predictions, s=12)
    low, high = float(min(labels.min(), predictions.min())), float(max(labels.max(), predictions.max()))
    left.plot([low, high], [low, high], color="gray", linewidth=1)
    left.set(xlabel=f"actual {target}", ylabel="predicted", title="Predicted vs actual (test)")
    right.scatter(predictions, labels - predictions, s=12)
    right.axhline(0, color="gray", linewidth=1)
    right.set(xlabel="predicted", ylabel="actual - predicted", title="Residuals (test)")
    save(figure, path)
