"""Object detection: the image input side plus a detection head (box coders, COCO metrics).

The model returns what its box coder reads (`zoo.detection.coders`): stride-4 centre maps
(`zoo.detection.points`) or anchor deltas and logits (`zoo.detection.anchors`); the head asks the coder for
the loss and the decoding into boxes, scores and classes, and scores them with pycocotools' COCOeval:
mAP@[.5:.95], mAP@0.5, per-class AP and recall on the test split.
"""

import numpy as np

from zoo.datasets import batched
from zoo.datasets.detection import SCENE_COUNTS
from zoo.datasets.scenes import counts_text
from zoo.detection import coco, coders
from zoo.tasks import detection_plots
from zoo.tasks.base import Dataset, Head, Task
from zoo.tasks.detection_export import DetectionExport
from zoo.tasks.image_input import ImageInput


class SceneInput(ImageInput):
    """Raw pixels 0-255 with boxes; no augmentation (it would have to move the boxes too)."""

    catalog = (
        Dataset(
            "mnist_scenes",
            "64x64 scenes of 1-6 mnist_5k digits at random scales and positions with their boxes, generated "
            "from the run's seed; train, validation and test scenes use disjoint source digits "
            f"({counts_text(SCENE_COUNTS)})",
            "Finds white-on-black handwritten digits 11-32 pixels tall on a black 64x64 canvas; photos, "
            "other backgrounds or much smaller digits need fine-tuning on such data.",
        ),
        Dataset(
            "coco:ANNOTATIONS.json",
            "your images with COCO-format boxes (images[].file_name relative to the JSON's folder, or "
            "--image_dir), resized to --image_size (default: the first image's size), split 80/10/10 by seed",
        ),
        Dataset(
            "yolo:FOLDER",
            "your images with YOLO txt labels: FOLDER/images/NAME.png with FOLDER/labels/NAME.txt (`class cx cy w h`, "
            "ratios) and the class names in FOLDER/classes.txt; resized and split as for coco:",
        ),
    )
    data_options = ("image_size", "skip_bad_boxes")
    recipe_keys = ()
    mediapipe_task = "ObjectDetector"

    def load_data(self, dataset, seed=0, data_dir=None, image_size=None, skip_bad_boxes=False, **unused):
        from zoo.datasets.detection import load_detection_dataset

        return load_detection_dataset(dataset, seed, image_size, skip_bad_boxes)

    def training_pipelines(self, splits, recipe, seed):
        train = batched(splits.train, recipe["batch_size"], shuffle_seed=seed)
        return train, batched(splits.validation, recipe["batch_size"])

    def card_usage_input(self, config):
        shape = config["input_shape"]
        return f"images)  # float32 pixels 0-255, shape (batch, {', '.join(map(str, shape))})"


def split_images(split):
    return np.concatenate([x for x, _ in split.batch(512).as_numpy_iterator()])


class DetectionHead(DetectionExport, Head):
    """A detector's raw outputs (its box coder's), boxes, classes and scores after decoding."""

    output_name = "centers"
    description = (
        "`centers`: the detector's raw float32 output, as its box coder lays it out: centre maps (batch, H/4, W/4, "
        "classes + 4) or anchor deltas and logits (batch, anchors, 4 + classes); "
        "`zoo.detection.coders.predict_boxes` turns them into boxes"
    )
    file_description = (
        "four outputs, MediaPipe's order: `location` (1, N, 4) [ymin, xmin, ymax, xmax] ratios, `category` (1, N), "
        "`score` (1, N), `number_of_detections` (1); decoding and NMS inside"
    )
    report_columns = ("map50", "matched", "map")
    agreement_column = "matched"
    history_metrics = ("loss",)

    def compile(self, model, recipe, new_optimizer):
        model.compile(optimizer=new_optimizer(), loss=coders.coder_of(model).loss())

    def evaluate(self, model, splits):
        results = {}
        for name, split in (("test", splits.test), ("validation", splits.validation)):
            images = split_images(split)
            found = coders.predict_boxes(model, images)
            truth = splits.extras["boxes"][name], splits.extras["classes"][name]
            results[name] = (images, found, truth)
        images, found, (boxes, classes) = results["test"]
        test = coco.detection_metrics(boxes, classes, found, splits.class_names)
        test["map50_interval"] = coco.bootstrap_interval(boxes, classes, found, splits.class_names, rounds=30)
        validation = coco.detection_metrics(*results["validation"][2], results["validation"][1], splits.class_names)
        metrics = dict(test=test, validation_map50=validation["map50"], validation_map=validation["map"])
        shown = slice(0, detection_plots.SCENES_SHOWN)
        outputs = dict(
            images=images[shown],
            found=found[shown],
            boxes=boxes[shown],
            classes=classes[shown],
            class_names=splits.class_names,
            pr_curve=test["pr_curve50"],
        )
        return metrics, outputs

    def write_plots(self, folder, outputs):
        detection_plots.plot_scenes(outputs, folder.file("detections.png"))
        detection_plots.plot_pr_curves(outputs["pr_curve"], folder.file("precision_recall.png"))
        return [
            ("detections.png", "Test scenes: true boxes (green) and detections scoring >= 0.3 (red, class and score)"),
            ("precision_recall.png", "Precision-recall per class at IoU 0.5 on the test split (COCOeval)"),
        ]

    def headline(self, metrics):
        test = metrics["test"]
        return f"test mAP@0.5 {test['map50']:.4f}, mAP@[.5:.95] {test['map']:.4f}, recall {test['recall']:.4f}"

    def card_metrics(self, metrics):
        test = metrics["test"]
        low, high = test["map50_interval"]
        lines = [
            f"On the test split ({test['num_images']:,} images, {test['num_objects']:,} objects; "
            "pycocotools COCOeval):",
            "",
            f"- mAP@0.5 **{test['map50']:.4f}** (95% bootstrap interval over images {low:.4f}-{high:.4f})",
            f"- mAP@[.5:.95] {test['map']:.4f}, mAP@0.75 {test['map75']:.4f}",
            f"- recall (AR@100, IoU .5:.95) {test['recall']:.4f}; at IoU 0.5 {test['recall50']:.4f}",
            f"- validation mAP@0.5 {metrics['validation_map50']:.4f}",
            "",
            "| class | AP@[.5:.95] | AP@0.5 |",
            "|---|---|---|",
        ]
        return lines + [f"| {name} | {test['ap'][name]:.3f} | {test['ap50'][name]:.3f} |" for name in test["ap"]]

    def card_usage_output(self, config, model_variable, inputs):
        return [
            f"found = zoo.detection.coders.predict_boxes({model_variable}, {inputs}",
            "boxes, scores, classes = found[0]  # the first image's, pixel [x1, y1, x2, y2]",
        ]

    def card_limitations(self, config, metrics):
        test = metrics["test"]
        return [
            f"- The mAP comes from {test['num_objects']:,} objects in {test['num_images']:,} test images of "
            f"`{config['run']['dataset']}`; on other scenes it can be far lower.",
            "- Training reads each object's box from its 4x4-pixel centre cell: objects whose centres share a cell "
            "merge (a centre-map model also finds at most one object per class in each cell).",
            "- The exported file's NMS is per class (IoU 0.5): one object can get boxes of two classes, the second "
            "with a lower score; keep the best-scoring box where boxes overlap if one label per object is needed.",
        ]

    def intended_use(self, config, task_name):
        return (
            f"Finding and classifying the objects of `{config['run']['dataset']}`'s {len(config['class_names'])} "
            "classes in images like its own; a reference detector to compare against and to try on-device with."
        )


class DetectionTask(Task):
    """Image input side + detection head; the TFLite file also holds the head's decoding and NMS."""

    def export_data(self, config, model, data_dir=None):
        data = super().export_data(config, model, data_dir)
        data.tflite_model = self.head.file_model(data.tflite_model)
        return data


ObjectDetection = DetectionTask(
    "object_detection", "detect", SceneInput(), DetectionHead(), "centernet", "mnist_scenes"
)
