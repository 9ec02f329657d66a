"""Segmentation metrics and plots: per-class IoU, mean IoU and pixel accuracy with 95% intervals over images.

Pixels of one image are not independent, so intervals come from a bootstrap over test *images*: each
resample draws images with replacement, sums their confusion matrices and recomputes the metric.
"""

import numpy as np

from zoo import plots

BOOTSTRAP_RESAMPLES = 1000


def confusion_per_image(predictions, labels, num_classes):
    """`(images, classes, classes)` int64 confusion matrices (rows: true class, columns: predicted)."""
    predictions, labels = np.asarray(predictions, np.int64), np.asarray(labels, np.int64)
    flat = (labels * num_classes + predictions).reshape(len(labels), -1)
    offsets = np.arange(len(labels))[:, None] * num_classes**2
    counts = np.bincount((flat + offsets).ravel(), minlength=len(labels) * num_classes**2)
    return counts.reshape(len(labels), num_classes, num_classes)


def iou_per_class(confusion):
    """IoU of each class from a `(..., classes, classes)` confusion matrix; NaN where a class is absent from
    both the labels and the predictions."""
    true_positive = np.diagonal(confusion, axis1=-2, axis2=-1).astype(np.float64)
    union = confusion.sum(-1) + confusion.sum(-2) - true_positive
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, true_positive / np.maximum(union, 1), np.nan)


def _summary(confusion):
    """`(mean IoU over the classes present, pixel accuracy)` of one or a stack of confusion matrices."""
    iou = iou_per_class(confusion)
    accuracy = np.diagonal(confusion, axis1=-2, axis2=-1).sum(-1) / confusion.sum((-2, -1))
    return np.nanmean(iou, axis=-1), accuracy


def _bootstrap_weights(count, seed, resamples=BOOTSTRAP_RESAMPLES):
    """`(resamples, count)` how often each image is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(count, np.full(count, 1 / count), size=resamples).astype(np.float64)


def _interval(values):
    return [float(np.nanpercentile(values, 2.5)), float(np.nanpercentile(values, 97.5))]


def segmentation_metrics(predictions, labels, class_names, seed=0):
    """Mean IoU, per-class IoU and pixel accuracy of category masks `predictions` against `labels`
    (both `(images, height, width)`), with 95% bootstrap intervals over images."""
    per_image = confusion_per_image(predictions, labels, len(class_names))
    total = per_image.sum(0)
    mean_iou, accuracy = _summary(total)
    resampled = np.tensordot(_bootstrap_weights(len(per_image), seed), per_image, axes=1)
    mean_ious, accuracies = _summary(resampled)
    ious, class_ious = iou_per_class(total), iou_per_class(resampled)
    per_class = {
        name: dict(
            iou=None if np.isnan(iou) else float(iou),
            iou_interval=_interval(class_ious[:, index]) if not np.isnan(iou) else None,
            pixels=int(total[index].sum()),
        )
        for index, (name, iou) in enumerate(zip(class_names, ious))
    }
    return dict(
        mean_iou=float(mean_iou),
        mean_iou_interval=_interval(mean_ious),
        pixel_accuracy=float(accuracy),
        pixel_accuracy_interval=_interval(accuracies),
        per_class=per_class,
        num_examples=int(len(labels)),
        num_pixels=int(total.sum()),
    )


def paired_mean_iou_drop(first, second, labels, num_classes, seed=0):
    """`(drop, 95% interval)` of mean IoU(first) - mean IoU(second), two sets of category masks on the same
    images, by a paired bootstrap over images."""
    first_cm, second_cm = (confusion_per_image(masks, labels, num_classes) for masks in (first, second))
    weights = _bootstrap_weights(len(labels), seed)
    drop = _summary(first_cm.sum(0))[0] - _summary(second_cm.sum(0))[0]
    drops = _summary(np.tensordot(weights, first_cm, axes=1))[0] - _summary(np.tensordot(weights, second_cm, axes=1))[0]
    return float(drop), _interval(drops)


def _colors(num_classes):
    """A color per class; background (0) transparent-black."""
    import matplotlib

    name, count = ("tab10", 10) if num_classes <= 11 else ("tab20", 20)
    palette = matplotlib.colormaps[name](np.arange(count))[:, :3]
    return np.concatenate([[[0, 0, 0]], palette[: num_classes - 1]]) if num_classes <= 21 else None


def overlay(image, mask, colors, alpha=0.55):
    """An RGB float image: gray `image` (0-255) with each non-zero class of `mask` tinted its color."""
    gray = np.repeat(image[..., :1] / 255.0, 3, -1) if image.shape[-1] == 1 else image / 255.0
    tint = colors[mask] if colors is not None else np.zeros((*mask.shape, 3))
    return np.where((mask > 0)[..., None], (1 - alpha) * gray + alpha * tint, gray)


def plot_overlays(images, predictions, labels, class_names, path, count=8):
    """Test images with the true (top row) and predicted (bottom row) masks overlaid."""
    plt = plots.plt
    count = min(count, len(images))
    colors = _colors(len(class_names))
    figure, axes = plt.subplots(2, count, figsize=(1.6 * count, 3.6), squeeze=False)
    for column in range(count):
        for row, (masks, title) in enumerate(((labels, "true"), (predictions, "predicted"))):
            axis = axes[row, column]
            axis.imshow(overlay(images[column], masks[column], colors), interpolation="nearest")
            axis.set_xticks([]), axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(title)
    if colors is not None:
        handles = [plt.Rectangle((0, 0), 1, 1, color=colors[i]) for i in range(1, len(class_names))]
        figure.legend(handles, class_names[1:], loc="lower center", ncol=min(10, len(handles)), fontsize=7)
    figure.suptitle("Test images: true and predicted masks")
    plots.save(figure, path)


def plot_class_iou(metrics, path):
    """Per-class IoU on the test split as bars with their 95% intervals."""
    plt = plots.plt
    names = [name for name, row in metrics["per_class"].items() if row["iou"] is not None]
    values = np.array([metrics["per_class"][name]["iou"] for name in names])
    intervals = np.array([metrics["per_class"][name]["iou_interval"] for name in names])
    errors = np.abs(intervals.T - values)
    figure, axis = plt.subplots(figsize=(max(5, 0.5 * len(names)), 3.5))
    axis.bar(range(len(names)), values, yerr=errors, capsize=3, color="tab:blue")
    axis.axhline(metrics["mean_iou"], color="tab:red", linestyle="--", label=f"mean IoU {metrics['mean_iou']:.3f}")
    axis.set(xticks=range(len(names)), ylim=(0, 1.05), ylabel="IoU", title="Per-class IoU (test split, 95% intervals)")
    axis.set_xticklabels(names, rotation=90 if len(names) > 12 else 0)
    axis.legend(loc="lower right")
    plots.save(figure, path)
