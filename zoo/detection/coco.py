"""COCO detection metrics with pycocotools' `COCOeval` (the reference implementation).

Boxes everywhere in zoo are pixel `[x1, y1, x2, y2]`; COCO's are `[x, y, width, height]`.
"""

import contextlib
import io

import numpy as np

from zoo.errors import ZooError

INSTALL_HINT = 'pycocotools is missing: pip install "zoo[detection]" (or pip install pycocotools).'


def _pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise ZooError(INSTALL_HINT) from None
    return COCO, COCOeval


def _xywh(box):
    x1, y1, x2, y2 = (float(value) for value in box)
    return [x1, y1, x2 - x1, y2 - y1]


def coco_ground_truth(boxes, classes, num_classes):
    """A pycocotools `COCO` of per-image pixel `boxes` and `classes` (image ids 0, 1, ...)."""
    COCO, _ = _pycocotools()
    annotations = [
        dict(id=len(annotations) + 1, image_id=image, category_id=int(label), bbox=_xywh(box), iscrowd=0)
        for image, (image_boxes, image_classes) in enumerate(zip(boxes, classes))
        for annotations in [[]]
        for box, label in zip(image_boxes, image_classes)
    ]
    for number, annotation in enumerate(annotations, 1):
        annotation["id"] = number
        annotation["area"] = annotation["bbox"][2] * annotation["bbox"][3]
    coco = COCO()
    coco.dataset = dict(
        images=[dict(id=image) for image in range(len(boxes))],
        annotations=annotations,
        categories=[dict(id=label) for label in range(num_classes)],
    )
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def coco_eval(ground_truth, detections, iou_thresholds=None):
    """An evaluated and accumulated `COCOeval` of `detections` (per image `(boxes, scores, classes)`)."""
    _, COCOeval = _pycocotools()
    results = [
        dict(image_id=image, category_id=int(label), bbox=_xywh(box), score=float(score))
        for image, (boxes, scores, classes) in enumerate(detections)
        for box, score, label in zip(boxes, scores, classes)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        found = ground_truth.loadRes(results) if results else _empty(ground_truth)
        evaluator = COCOeval(ground_truth, found, "bbox")
        if iou_thresholds is not None:
            evaluator.params.iouThrs = np.asarray(iou_thresholds, np.float64)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def _empty(ground_truth):
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = dict(
        images=ground_truth.dataset["images"], annotations=[], categories=ground_truth.dataset["categories"]
    )
    coco.createIndex()
    return coco


def _mean_valid(values):
    values = np.asarray(values)
    values = values[values > -1]
    return float(values.mean()) if len(values) else float("nan")


def detection_metrics(boxes, classes, detections, class_names):
    """COCO metrics of `detections` against ground-truth `boxes`, `classes` per image.

    Returns a dict: `map` (AP@[.5:.95]), `map50`, `map75`, `recall` (AR@100 over IoU .5:.95), `recall50`,
    per-class `ap` and `ap50`, image and object counts, and the IoU-0.5 precision-recall curve per class.
    """
    evaluator = coco_eval(coco_ground_truth(boxes, classes, len(class_names)), detections)
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # (iou, recall, class), all areas, 100 dets
    recall = evaluator.eval["recall"][:, :, 0, -1]  # (iou, class)
    stats = evaluator.stats
    return dict(
        map=float(stats[0]),
        map50=float(stats[1]),
        map75=float(stats[2]),
        recall=float(stats[8]),
        recall50=_mean_valid(recall[0]),
        ap={name: _mean_valid(precision[..., k]) for k, name in enumerate(class_names)},
        ap50={name: _mean_valid(precision[0, :, k]) for k, name in enumerate(class_names)},
        num_images=len(boxes),
        num_objects=int(sum(len(b) for b in boxes)),
        pr_curve50=dict(
            recall=[float(v) for v in evaluator.params.recThrs],
            precision={name: [float(v) for v in precision[0, :, k]] for k, name in enumerate(class_names)},
        ),
    )


def bootstrap_interval(boxes, classes, detections, class_names, key="map50", rounds=50, seed=0, paired=None):
    """95% bootstrap interval (over images) of `detection_metrics(...)[key]`; with `paired` (other detections
    on the same images), of the difference `paired - detections` on the same resamples."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        pick = rng.integers(0, len(boxes), len(boxes))
        gt = coco_ground_truth([boxes[i] for i in pick], [classes[i] for i in pick], len(class_names))
        value = coco_eval(gt, [detections[i] for i in pick], [0.5] if key == "map50" else None).stats[
            0 if key == "map50" else 0
        ]
        if paired is not None:
            value = coco_eval(gt, [paired[i] for i in pick], [0.5] if key == "map50" else None).stats[0] - value
        values.append(value)
    return [float(v) for v in np.percentile(values, [2.5, 97.5])]
