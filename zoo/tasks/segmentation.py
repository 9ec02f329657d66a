"""Semantic segmentation: the image input side plus a per-pixel classification head.

The model returns logits `(height, width, classes)`; the category mask is their argmax. Metrics: mean IoU
(over the classes present, background included), per-class IoU and pixel accuracy, each with a 95%
bootstrap interval over test images. Export: uint8 RGB pixels in, float32 per-pixel scores out (the last
and only output, labels attached), which is what MediaPipe's `vision.ImageSegmenter` opens.
"""

import keras
import numpy as np

from zoo.datasets.scenes import SCENES, counts_text
from zoo.datasets.segmentation import LAYOUT, load_segmentation_dataset
from zoo.errors import ZooError
from zoo.tasks.arrays import predict_logits
from zoo.tasks.base import Dataset, Head, Task
from zoo.tasks.image_input import ImageInput
from zoo.tasks.segmentation_metrics import (
    paired_mean_iou_drop,
    plot_class_iou,
    plot_overlays,
    segmentation_metrics,
)

MIN_PIXEL_AGREEMENT = 0.99  # the gate: share of pixels whose class the file and Keras agree on
MAX_MEAN_IOU_DROP = 0.01  # the gate: a drop (Keras - file) whose 95% interval lies above this fails

CATALOG = (
    Dataset(
        "mnist_scenes",
        "64x64 scenes of 1-6 mnist_5k digits at random scales and positions, generated from the seed "
        f"({counts_text(SCENES)} scenes from disjoint train/validation/test digits); "
        "mask: 0 background, digit + 1 on its ink",
        "Trained on white digits on black 64x64 canvases: other backgrounds, colors or handwriting styles "
        "need fine-tuning.",
    ),
    Dataset("folder:DIR", f"your images and masks: {LAYOUT}; split 80/10/10 with the seed"),
)


def category_masks(logits):
    """The class of each pixel: argmax over the last axis, uint8 for up to 256 classes."""
    masks = np.argmax(logits, axis=-1)
    return masks.astype(np.uint8) if logits.shape[-1] <= 256 else masks


class SegmentationHead(Head):
    """Per-pixel logits out, one per class; mean IoU, per-class IoU and pixel accuracy with intervals."""

    description = "`logits`: float32 (height, width, classes) per-pixel scores, no softmax; argmax: the class mask"
    report_columns = ("mean_iou", "pixel_agreement", "max_abs_diff")
    agreement_column = "pixel_agreement"
    history_metrics = ("loss", "pixel_accuracy")
    agreement_examples = 500  # each input has height x width outputs to compare: 500 images besides the test split

    def num_outputs(self, splits):
        return splits.num_classes

    def compile(self, model, recipe, new_optimizer):
        model.compile(
            optimizer=new_optimizer(),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy")],
        )

    def evaluate(self, model, splits):
        test_logits, test_masks = predict_logits(model, splits.test)
        val_logits, val_masks = predict_logits(model, splits.validation)
        test_predictions = category_masks(test_logits)
        validation = segmentation_metrics(category_masks(val_logits), val_masks, splits.class_names)
        metrics = dict(
            test=segmentation_metrics(test_predictions, test_masks, splits.class_names),
            validation_mean_iou=validation["mean_iou"],
        )
        images = np.concatenate([x for x, _ in splits.test.take(8).batch(8).as_numpy_iterator()])
        outputs = dict(images=images, predictions=test_predictions, labels=test_masks, class_names=splits.class_names)
        return metrics, dict(outputs, metrics=metrics["test"])

    def write_plots(self, folder, outputs):
        plot_overlays(
            outputs["images"],
            outputs["predictions"],
            outputs["labels"],
            outputs["class_names"],
            folder.file("overlays.png"),
        )
        plot_class_iou(outputs["metrics"], folder.file("class_iou.png"))
        return [
            ("overlays.png", "Test images with their true (top) and predicted (bottom) masks"),
            ("class_iou.png", "Per-class IoU on the test split with 95% intervals"),
        ]

    def headline(self, metrics):
        test = metrics["test"]
        return f"test mean IoU {test['mean_iou']:.4f}, pixel accuracy {test['pixel_accuracy']:.4f}"

    def card_metrics(self, metrics):
        test = metrics["test"]
        (low, high), (acc_low, acc_high) = test["mean_iou_interval"], test["pixel_accuracy_interval"]
        lines = [
            f"On the test split ({test['num_examples']:,} images, {test['num_pixels']:,} pixels, never used for "
            "training or model selection; intervals: 95% bootstrap over images):",
            "",
            f"- mean IoU **{test['mean_iou']:.4f}** (95% interval {low:.4f}-{high:.4f}), over the classes present, "
            "background included",
            f"- pixel accuracy {test['pixel_accuracy']:.4f} ({acc_low:.4f}-{acc_high:.4f})",
            f"- validation mean IoU {metrics['validation_mean_iou']:.4f}",
            "",
            "| class | IoU | 95% interval | pixels |",
            "|---|---|---|---|",
        ]
        for name, row in test["per_class"].items():
            iou = "-" if row["iou"] is None else f"{row['iou']:.3f}"
            interval = "-" if row["iou_interval"] is None else "{:.3f}-{:.3f}".format(*row["iou_interval"])
            lines.append(f"| {name} | {iou} | {interval} | {row['pixels']:,} |")
        return lines

    def card_usage_output(self, config, model_variable, inputs):
        return [f"logits = {model_variable}({inputs}", "masks = keras.ops.argmax(logits, axis=-1)  # class per pixel"]

    def card_limitations(self, config, metrics):
        test = metrics["test"]
        low, high = test["mean_iou_interval"]
        return [
            f"- The mean IoU comes from {test['num_examples']:,} test images of `{config['run']['dataset']}`: on that "
            f"distribution it lies about in {low:.4f}-{high:.4f}; on other images it can be far lower.",
            f"- Every pixel gets one of its {len(config['class_names'])} classes; thin structures and the edges of "
            "objects are where it errs most.",
        ]

    def intended_use(self, config, task_name):
        return (
            f"Labelling each pixel of images like those of `{config['run']['dataset']}` with one of its "
            f"{len(config['class_names'])} classes; a reference to compare against, a starting point for "
            "fine-tuning, and a small segmenter to try on phones (MediaPipe's ImageSegmenter opens the files)."
        )

    def export_labels(self, splits, model, labels):
        if splits.num_classes != model.output_shape[-1]:
            raise ZooError(
                f"Dataset {splits.name} has {splits.num_classes} classes but the model has "
                f"{model.output_shape[-1]} outputs: export with the data the run was trained on."
            )
        return labels, dict(labels=splits.class_names, output_description=self.description)

    def compare(self, outputs, reference, labels):
        """Pixel agreement with Keras on every input; mean IoU and its drop from Keras's on the test images."""
        masks, keras_masks = category_masks(outputs), category_masks(reference)
        test, keras_test = masks[-len(labels) :], keras_masks[-len(labels) :]
        num_classes = outputs.shape[-1]
        mean_iou = segmentation_metrics(test, labels, [str(index) for index in range(num_classes)])
        drop, drop_interval = paired_mean_iou_drop(keras_test, test, labels, num_classes)
        return dict(
            mean_iou=mean_iou["mean_iou"],
            mean_iou_interval=mean_iou["mean_iou_interval"],
            pixel_accuracy=mean_iou["pixel_accuracy"],
            mean_iou_drop=drop,
            mean_iou_drop_interval=drop_interval,
            pixel_agreement=float(np.mean(masks == keras_masks)),
            agreement_examples=int(len(outputs)),
            max_abs_diff=float(np.abs(outputs - reference).max()),
        )

    def gate(self, row, keras_row):
        reasons = []
        if row["pixel_agreement"] < MIN_PIXEL_AGREEMENT:
            reasons.append(
                f"agrees with Keras on {100 * row['pixel_agreement']:.2f}% of the pixels of "
                f"{row['agreement_examples']:,} images (gate: {100 * MIN_PIXEL_AGREEMENT:.0f}%)"
            )
        low, high = row["mean_iou_drop_interval"]
        if low > MAX_MEAN_IOU_DROP:
            reasons.append(
                f"loses {100 * row['mean_iou_drop']:.2f} mean-IoU points on the test split (95% interval "
                f"{100 * low:.2f} to {100 * high:.2f}; gate: {100 * MAX_MEAN_IOU_DROP:.0f})"
            )
        return reasons

    def decode(self, predictor, outputs, top_k=None):
        """One category mask per image: uint8 `(height, width)` class ids, in `predictor.labels`' order."""
        return list(category_masks(outputs))

    def format_answer(self, answer):
        """The mask's size and its classes by share of pixels, largest first."""
        counts = np.bincount(answer.ravel())
        order = [index for index in np.argsort(-counts) if counts[index]]
        shares = ", ".join(f"class {index} {100 * counts[index] / answer.size:.1f}%" for index in order)
        return f"{answer.shape[1]}x{answer.shape[0]} mask: {shares}"


class ImageSegmentation(Task):
    name, app = "image_segmentation", "segment"
    default_model, default_dataset = "unet", "mnist_scenes"
    side = ImageInput(CATALOG, load_segmentation_dataset, mediapipe_task="ImageSegmenter", recipe_keys=())
    head = SegmentationHead()
