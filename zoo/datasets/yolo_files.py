"""`yolo:FOLDER`: your images with YOLO txt labels (Darknet's and Ultralytics' layout), as detection `Splits`.

`FOLDER/images/NAME.png` (or .jpg, .jpeg, .bmp, .gif) goes with `FOLDER/labels/NAME.txt`, one box a line:
`class x_center y_center width height`, the class a 0-based index into the names file and the rest ratios
of the image's width and height; an image without a labels file has no objects. The class names are one a
line in `FOLDER/classes.txt` (labelImg's), `obj.names` (Darknet's) or `names.txt`. Bad boxes are handled as
for COCO files (`zoo.datasets.coco_files`): a line that is not five numbers, an unknown class, zero or
negative area, a box outside the image, or a labels file whose image is missing or cannot be decoded is one
error naming the file and line, or, with `--skip_bad_boxes`, left out and recorded in the run's `config.json`.
Images are resized to `--image_size` (default: the first image's size); split 80/10/10 with the seed.
"""

import pathlib

import numpy as np

from zoo.datasets.coco_files import _decode, split_examples
from zoo.errors import ZooError

NAMES_FILES = ("classes.txt", "obj.names", "names.txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
TOLERANCE = 0.5  # pixels a box may reach past the image's edge (rounding in the tool that wrote it)


def _class_names(folder):
    for name in NAMES_FILES:
        if (folder / name).is_file():
            return [line.strip() for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    raise ZooError(f"{folder} has no class names: write one name a line, class 0 first, to {folder / NAMES_FILES[0]}.")


def _box_problem(fields, num_classes, height, width):
    try:
        label, cx, cy, w, h = (float(v) for v in fields)
    except ValueError:
        return f"{' '.join(fields)!r} is not `class x_center y_center width height`", None
    if label != int(label) or not 0 <= label < num_classes:
        return f"unknown class {fields[0]} (the names file has {num_classes})", None
    if not all(np.isfinite([cx, cy, w, h])):
        return f"box {' '.join(fields[1:])} is not finite", None
    if w <= 0 or h <= 0:
        return f"box {' '.join(fields[1:])} has zero or negative area", None
    box = np.array([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height])
    if box.min() < -TOLERANCE or box[2] > width + TOLERANCE or box[3] > height + TOLERANCE:
        return f"box {' '.join(fields[1:])} lies outside the {width}x{height} image", None
    return None, (int(label), np.clip(box, 0, [width, height, width, height]))


def _examples(folder, class_names, image_size, skip):
    """Per kept image `(pixels, boxes [x1, y1, x2, y2], classes, file name)`, and what was skipped."""
    images = {p.stem: p for p in sorted((folder / "images").glob("*")) if p.suffix.lower() in IMAGE_SUFFIXES}
    labels = {p.stem: p for p in sorted((folder / "labels").glob("*.txt"))}
    examples, skipped = [], []

    def problem_found(problem):
        if not skip:
            raise ZooError(f"{problem}; fix it or pass --skip_bad_boxes to leave it out.")
        skipped.append(problem)

    for stem in sorted(labels.keys() - images.keys()):
        problem_found(f"{labels[stem]}: its image {folder / 'images' / stem}.* is missing")
    for stem, file in images.items():
        pixels, original = _decode(file, image_size)
        if pixels is None:
            problem_found(f"{file}: the image cannot be decoded")
            continue
        image_size = image_size or original
        scale = np.array([image_size[1] / original[1], image_size[0] / original[0]] * 2)
        boxes, classes = [], []
        lines = labels[stem].read_text(encoding="utf-8").splitlines() if stem in labels else []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            problem, found = _box_problem(line.split(), len(class_names), *original)
            if problem:
                problem_found(f"{labels[stem]}: line {number}: {problem}")
                continue
            classes.append(found[0])
            boxes.append(found[1] * scale)
        examples.append((pixels, np.array(boxes).reshape(-1, 4), np.array(classes, np.int64), file.name))
    return examples, skipped


def load_yolo(folder, seed=0, image_size=None, skip_bad_boxes=False):
    """`zoo.datasets.detection.detection_splits` arguments of a YOLO folder (`images/`, `labels/`, names file)."""
    path = pathlib.Path(folder).expanduser()
    if not (path / "images").is_dir():
        raise ZooError(f"{path / 'images'} is not a folder: pass --dataset=yolo:FOLDER with images/ and labels/ in it.")
    class_names = _class_names(path)
    examples, skipped = _examples(path, class_names, image_size, skip_bad_boxes)
    if not examples:
        raise ZooError(f"{path / 'images'} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    return split_examples(f"yolo:{folder}", examples, skipped, class_names, seed)
