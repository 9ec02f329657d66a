"""`coco:ANNOTATIONS.json`: your images with COCO-format boxes, as detection `Splits`.

`images[].file_name` is relative to the JSON's folder; `annotations[].bbox` is `[x, y, width, height]`
in pixels; `categories[]` name the classes (ids in any order; zoo numbers them by id). Every box is
checked before anything is written: outside the image, zero or negative area, an unknown category or a
missing or undecodable image is one error naming the file, or, with `--skip_bad_boxes`, left out and
recorded in the run's `config.json`. Images are resized to `--image_size` (default: the first image's
size) and their boxes scaled with them; split 80/10/10 with the seed.
"""

import json
import pathlib

import numpy as np

from zoo.datasets.splits import digest_of, shuffled_split_indices
from zoo.errors import ZooError


def _read_json(path):
    if not path.is_file():
        raise ZooError(f"{path} does not exist: pass --dataset=coco:ANNOTATIONS.json (a COCO annotations file).")
    try:
        data = json.loads(path.read_text())
        return data["images"], data["annotations"], data["categories"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ZooError(
            f"{path} is not a COCO annotations file ({error!r}): it needs images, annotations, categories."
        ) from None


def _decode(path, size):
    import tensorflow as tf

    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    except (tf.errors.OpError, ValueError):
        return None, None
    original = tuple(image.shape[:2])
    size = size or original
    if original != tuple(size):
        image = tf.image.resize(tf.cast(image, tf.float32), size)
    return np.clip(np.round(np.asarray(image, np.float32)), 0, 255), original


def _box_problem(box, category, known, height, width):
    if category not in known:
        return f"unknown category_id {category}"
    if len(box) != 4 or not all(np.isfinite(box)):
        return f"bbox {box} is not [x, y, width, height]"
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return f"bbox {box} has zero or negative area"
    if x < 0 or y < 0 or x + w > width + 0.5 or y + h > height + 0.5:
        return f"bbox {box} lies outside the {width}x{height} image"
    return None


def _examples(json_path, images, annotations, categories, image_size, skip):
    """Per kept image `(pixels, boxes [x1, y1, x2, y2], classes, file name)`, and what was skipped."""
    ids = sorted(int(c["id"]) for c in categories)
    number = {category: index for index, category in enumerate(ids)}
    by_image = {}
    for annotation in annotations:
        by_image.setdefault(annotation.get("image_id"), []).append(annotation)
    examples, skipped = [], []
    for entry in images:
        file = json_path.parent / str(entry.get("file_name", ""))
        pixels, original = _decode(file, image_size) if file.is_file() else (None, None)
        if pixels is None:
            problem = f"{file}: the image is missing or cannot be decoded"
            if not skip:
                raise ZooError(f"{problem}; fix it or pass --skip_bad_boxes to leave it out.")
            skipped.append(problem)
            continue
        image_size = image_size or original
        scale = np.array([image_size[1] / original[1], image_size[0] / original[0]] * 2)
        boxes, classes = [], []
        for annotation in by_image.get(entry.get("id"), []):
            box = [float(v) for v in annotation.get("bbox", [])]
            problem = _box_problem(box, annotation.get("category_id"), number, *original)
            if problem:
                if not skip:
                    raise ZooError(
                        f"{file}: annotation {annotation.get('id')}: {problem}; fix {json_path.name} or "
                        "pass --skip_bad_boxes to leave such boxes out."
                    )
                skipped.append(f"{file}: annotation {annotation.get('id')}: {problem}")
                continue
            x, y, w, h = box
            boxes.append(np.array([x, y, x + w, y + h]) * scale)
            classes.append(number[annotation["category_id"]])
        examples.append((pixels, np.array(boxes).reshape(-1, 4), np.array(classes, np.int64), file.name))
    names = {int(c["id"]): str(c.get("name", c["id"])) for c in categories}
    return examples, skipped, [names[category] for category in ids]


def load_coco(annotations_path, seed=0, image_size=None, skip_bad_boxes=False):
    """`zoo.datasets.detection.detection_splits` arguments of a COCO annotations file and its images: per split
    images, boxes and classes, then class names, digest and notes (skipped boxes)."""
    json_path = pathlib.Path(annotations_path).expanduser()
    images, annotations, categories = _read_json(json_path)
    examples, skipped, class_names = _examples(json_path, images, annotations, categories, image_size, skip_bad_boxes)
    return split_examples(f"coco:{annotations_path}", examples, skipped, class_names, seed)


def split_examples(name, examples, skipped, class_names, seed):
    """`detection_splits` arguments of `(pixels, boxes, classes, file name)` examples, split 80/10/10 by `seed`."""
    parts = [[examples[i] for i in indices] for indices in shuffled_split_indices(len(examples), seed)]
    digest = digest_of([[e[3] + str(e[1].tolist()) + str(e[2].tolist()) for e in part] for part in parts])
    return (
        name,
        [np.stack([e[0] for e in part]) for part in parts],
        [[e[1] for e in part] for part in parts],
        [[e[2] for e in part] for part in parts],
        class_names,
        digest,
        dict(skipped=skipped) if skipped else None,
    )
