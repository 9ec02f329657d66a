"""The detection head's export side: the file with decoding and NMS inside, its fidelity gate, decoding.

The file returns MediaPipe's four outputs (`zoo.detection.postprocess`); Keras's centre maps go through the
same post-processing (as a TensorFlow function) so both are compared as boxes: the share of detections
(score >= `MATCH_SCORE`) that the other side also finds with IoU >= `MATCH_IOU` and the same class, and
mAP@0.5 on the test split with a paired bootstrap interval of the drop (Keras - file).
"""

import numpy as np

from zoo.detection import coco
from zoo.detection.coders import as_pixel_detections, coder_of, detections_of  # noqa: F401 (re-exported)
from zoo.errors import ZooError

MATCH_IOU, MATCH_SCORE = 0.9, 0.3
MIN_MATCHED = 0.95  # the gate: matched detections
MAX_MAP50_DROP = 0.01  # the gate: a drop whose 95% interval lies above this fails
BOOTSTRAP_ROUNDS = 30


def _iou(a, b):
    """IoU matrix of pixel boxes `a` (n, 4) and `b` (m, 4)."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), -1)
    area = lambda boxes: np.prod(boxes[:, 2:] - boxes[:, :2], -1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None] - inter, 1e-9)


def matched_share(first, second):
    """Share of the detections (score >= MATCH_SCORE) of either side matched one-to-one on the other side
    with IoU >= MATCH_IOU and the same class; 1.0 when neither finds anything."""
    matched = total = 0
    for (boxes_a, scores_a, classes_a), (boxes_b, scores_b, classes_b) in zip(first, second):
        a, b = scores_a >= MATCH_SCORE, scores_b >= MATCH_SCORE
        total += max(a.sum(), b.sum())
        if not a.any() or not b.any():
            continue
        iou = _iou(boxes_a[a], boxes_b[b]) * (classes_a[a][:, None] == classes_b[b][None])
        used = set()
        for row in iou:
            candidates = [j for j in np.argsort(-row) if row[j] >= MATCH_IOU and j not in used]
            if candidates:
                used.add(candidates[0])
        matched += len(used)
    return matched / total if total else 1.0


def compare(outputs, reference, labels, image_size, class_names, coder=None):
    """One report row's entries: matched detections against Keras on every input, and mAP on the test split
    (raw Keras outputs go through `coder`'s post-processing, default centre maps')."""
    found = as_pixel_detections(detections_of(outputs, image_size, coder), image_size)
    keras_found = as_pixel_detections(detections_of(reference, image_size, coder), image_size)
    boxes, classes = [label[0] for label in labels], [label[1] for label in labels]
    test, keras_test = found[-len(labels) :], keras_found[-len(labels) :]
    metrics = coco.detection_metrics(boxes, classes, test, class_names)
    keras_map50 = coco.detection_metrics(boxes, classes, keras_test, class_names)["map50"]
    same = all(np.array_equal(a[0], b[0]) for a, b in zip(test, keras_test))
    drop_interval = (
        [0.0, 0.0]
        if same
        else coco.bootstrap_interval(boxes, classes, test, class_names, rounds=BOOTSTRAP_ROUNDS, paired=keras_test)
    )
    return dict(
        map50=metrics["map50"],
        map=metrics["map"],
        map50_drop=keras_map50 - metrics["map50"],
        map50_drop_interval=drop_interval,
        matched=matched_share(found, keras_found),
        agreement_examples=len(found),
    )


def gate(row):
    reasons = []
    if row["matched"] < MIN_MATCHED:
        reasons.append(
            f"matches {100 * row['matched']:.2f}% of Keras's detections (IoU >= {MATCH_IOU}, same class) on "
            f"{row['agreement_examples']:,} inputs (gate: {100 * MIN_MATCHED:.0f}%)"
        )
    low, high = row["map50_drop_interval"]
    if low > MAX_MAP50_DROP:
        reasons.append(
            f"loses {100 * row['map50_drop']:.2f} mAP@0.5 points on the test split (95% interval {100 * low:.2f} "
            f"to {100 * high:.2f}; gate: {100 * MAX_MAP50_DROP:.0f})"
        )
    return reasons


def decode(predictor, outputs, min_score=MATCH_SCORE):
    """Per image a list of `(label, score, [x1, y1, x2, y2] pixels)`, best first, scores >= `min_score`."""
    if not isinstance(outputs, dict):
        raise ZooError(f"{predictor.path.name} returns no detections: export the run again (python -m export).")
    shape = predictor.metadata.get("input_shape") or predictor.input_shape
    labels = predictor.metadata.get("labels") or []
    answers = []
    for boxes, scores, classes in as_pixel_detections(outputs, shape[:2], min_score):
        answers.append(
            [
                (labels[k] if k < len(labels) else str(k), float(s), [round(float(v), 1) for v in box])
                for box, s, k in zip(boxes, scores, classes)
            ]
        )
    return answers


class TestTruth(list):
    """The test split's `(boxes, classes)` per image, with what `compare` needs to read the outputs."""

    def __init__(self, items, image_size, class_names, coder=None):
        super().__init__(items)
        self.image_size, self.class_names, self.coder = tuple(image_size), list(class_names), coder


class DetectionExport:
    """The head's export methods: the file holds decoding and NMS and returns MediaPipe's four outputs."""

    def file_model(self, model):
        """`model` (the side's: pixels to the detector's raw outputs) with its coder's decoding and NMS appended."""
        from zoo.detection.postprocess import detection_model  # noqa: PLC0415

        return detection_model(model, model.input_shape[1:3], coder_of(model).postprocess)

    def export_labels(self, splits, model, labels):
        truth = zip(splits.extras["boxes"]["test"], splits.extras["classes"]["test"])
        coder = coder_of(model)
        metadata = dict(
            labels=splits.class_names,
            output_description=self.file_description,
            int8_float_operators=list(coder.int8_float_operators),
        )
        return TestTruth(truth, splits.input_shape[:2], splits.class_names, coder), metadata

    def compare(self, outputs, reference, labels):
        return compare(outputs, reference, labels, labels.image_size, labels.class_names, labels.coder)

    def gate(self, row, keras_row):
        return gate(row)

    def decode(self, predictor, outputs, top_k=None):
        answers = decode(predictor, outputs)
        return [answer[:top_k] for answer in answers] if top_k else answers

    def format_answer(self, answer):
        if not answer:
            return "nothing found"
        return "; ".join(f"{label} {score:.3f} at [{', '.join(f'{v:g}' for v in box)}]" for label, score, box in answer)

    def draw_answer(self, image_path, answer, input_shape, folder=None):
        return draw_boxes(image_path, answer, input_shape, folder)

    def tensor_metadata(self, description, detail):
        name = {"number_of_detections": "number of detections"}.get(detail["name"], detail["name"])
        files = [dict(name="labels.txt", description="One label per class id.", type="TENSOR_VALUE_LABELS")]
        box = BOX_METADATA if detail["name"] == "location" else {}
        return dict(
            name=name,
            description=OUTPUT_DESCRIPTIONS.get(detail["name"], ""),
            associated_files=files if detail["name"] == "category" and description.get("labels") else [],
            **box,
        )


# MediaPipe's ObjectDetector reads boxes by these (BoundingBoxProperties): BOUNDARIES are left, top, right, bottom,
# found at positions 1, 0, 3, 2 of `[ymin, xmin, ymax, xmax]`, as ratios of the image.
BOX_METADATA = dict(content="bounding_box", box_index=[1, 0, 3, 2], box_type="BOUNDARIES", coordinate_type="RATIO")
OUTPUT_DESCRIPTIONS = dict(
    location="[ymin, xmin, ymax, xmax] as ratios of the image's height and width",
    category="class id (see labels.txt)",
    score="detection score 0-1",
    number_of_detections="how many of the N rows are detections",
)


def draw_boxes(image_path, answer, input_shape, folder=None):
    """`image_path` with the detections of `answer` (boxes in the model's input pixels) drawn at its own size,
    written as `NAME_boxes.png` beside it or into `folder`; returns the path written."""
    import pathlib

    from PIL import Image, ImageDraw

    source = pathlib.Path(image_path)
    image = Image.open(source).convert("RGB")
    scale_x, scale_y = image.width / input_shape[1], image.height / input_shape[0]
    draw = ImageDraw.Draw(image)
    for label, score, (x1, y1, x2, y2) in answer:
        draw.rectangle([x1 * scale_x, y1 * scale_y, x2 * scale_x, y2 * scale_y], outline=(255, 0, 0))
        draw.text((x1 * scale_x, max(y1 * scale_y - 10, 0)), f"{label} {score:.2f}", fill=(255, 0, 0))
    target = pathlib.Path(folder or source.parent) / f"{source.stem}_boxes.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)
    return target
