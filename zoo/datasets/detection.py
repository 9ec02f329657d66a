"""Detection datasets as `Splits`: `(float32 pixels (H, W, C), dense centre target)` per image, with each
split's ground-truth boxes and classes in `Splits.extras` for the COCO metrics."""

import numpy as np

from zoo.datasets.splits import Splits, digest_of
from zoo.errors import ZooError

SPLIT_NAMES = ("train", "validation", "test")
DIGIT_NAMES = [str(digit) for digit in range(10)]
SCENE_COUNTS = (15000, 300, 300)  # mnist_scenes: train, validation, test scenes (tests make fewer)


def detection_splits(name, images, boxes, classes, class_names, digest, notes=None):
    """`Splits` of per-split `images` (uint8 or float, (n, H, W[, C])), pixel `boxes` `[x1, y1, x2, y2]` and
    `classes` per image; the labels are `zoo.detection.points.encode` targets."""
    import tensorflow as tf

    from zoo.detection.points import encode

    datasets = []
    for split_images, split_boxes, split_classes in zip(images, boxes, classes):
        pixels = np.asarray(split_images, np.float32)
        pixels = pixels[..., None] if pixels.ndim == 3 else pixels
        targets = np.stack(
            [encode(b, c, pixels.shape[1:3], len(class_names)) for b, c in zip(split_boxes, split_classes)]
        )
        datasets.append(tf.data.Dataset.from_tensor_slices((pixels, targets)))
    extras = dict(
        boxes=dict(zip(SPLIT_NAMES, boxes)),
        classes=dict(zip(SPLIT_NAMES, classes)),
    )
    shape = tuple(datasets[0].element_spec[0].shape)
    return Splits(
        name,
        *datasets,
        list(class_names),
        shape,
        task="object_detection",
        digest=digest,
        notes=notes or {},
        extras=extras,
    )


def load_detection_dataset(dataset, seed=0, image_size=None, skip_bad_boxes=False):
    """`mnist_scenes` (generated from the seed), `coco:ANNOTATIONS.json` or `yolo:FOLDER` as detection `Splits`."""
    if dataset == "mnist_scenes":
        from zoo.datasets.scenes import mnist_scenes

        scenes = mnist_scenes(seed, SCENE_COUNTS)
        parts = [scenes[name] for name in SPLIT_NAMES]
        digest = digest_of([[s.images.tobytes(), *[b.tobytes() for b in s.boxes]] for s in parts])
        return detection_splits(
            dataset,
            [s.images for s in parts],
            [s.boxes for s in parts],
            [s.classes for s in parts],
            DIGIT_NAMES,
            digest,
        )
    if dataset.startswith("coco:"):
        from zoo.datasets.coco_files import load_coco

        return detection_splits(*load_coco(dataset.partition(":")[2], seed, image_size, skip_bad_boxes))
    if dataset.startswith("yolo:"):
        from zoo.datasets.yolo_files import load_yolo

        return detection_splits(*load_yolo(dataset.partition(":")[2], seed, image_size, skip_bad_boxes))
    raise ZooError(f"Unknown detection dataset {dataset!r}: use mnist_scenes, coco:ANNOTATIONS.json or yolo:FOLDER.")
