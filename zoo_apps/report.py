"""What a run reports: metrics.json, training-curve and confusion-matrix plots."""

import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from zoo.files import atomic_path  # noqa: E402


def classification_metrics(logits, labels, class_names):
    """Accuracy, macro-F1, per-class precision/recall and one-vs-rest AUC."""
    predictions = logits.argmax(axis=1)
    all_labels = list(range(len(class_names)))
    precision, recall, _, support = skm.precision_recall_fscore_support(
        labels, predictions, labels=all_labels, zero_division=0
    )
    return dict(
        accuracy=float(skm.accuracy_score(labels, predictions)),
        macro_f1=float(skm.f1_score(labels, predictions, labels=all_labels, average="macro")),
        auc_ovr=_one_vs_rest_auc(_softmax(logits), labels),
        num_examples=int(len(labels)),
        per_class={
            name: dict(precision=float(p), recall=float(r), support=int(s))
            for name, p, r, s in zip(class_names, precision, recall, support)
        },
    )


def _softmax(logits):
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _one_vs_rest_auc(probabilities, labels):
    """Macro one-vs-rest ROC AUC over the classes present in `labels`."""
    present = np.unique(labels)
    if len(present) < 2:
        return None
    scores = [skm.roc_auc_score(labels == c, probabilities[:, c]) for c in present]
    return float(np.mean(scores))


def read_history(path):
    """Reads history.csv, keeping the last row of any epoch logged twice by a resume."""
    with open(path, newline="") as f:
        rows = {int(row["epoch"]): row for row in csv.DictReader(f)}
    return [rows[epoch] for epoch in sorted(rows)]


def plot_history(history, path):
    """Plots loss and accuracy per epoch, training vs validation."""
    epochs = [int(row["epoch"]) + 1 for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy")):
        for prefix, label in (("", "train"), ("val_", "validation")):
            axis.plot(epochs, [float(row[prefix + metric]) for row in history], label=label)
        axis.set(xlabel="epoch", ylabel=metric, title=metric)
        axis.grid(alpha=0.3)
        axis.legend()
    _save(figure, path)


def plot_confusion_matrix(logits, labels, class_names, path):
    """Plots the test confusion matrix (rows: true class, columns: predicted)."""
    size = max(5, 0.5 * len(class_names))
    figure, axis = plt.subplots(figsize=(size, size))
    skm.ConfusionMatrixDisplay.from_predictions(
        labels, logits.argmax(axis=1), labels=list(range(len(class_names))),
        display_labels=class_names, ax=axis, colorbar=False,
        xticks_rotation="vertical" if len(class_names) > 10 else "horizontal",
    )
    axis.set_title("Confusion matrix (test split)")
    _save(figure, path)


def _save(figure, path):
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)
