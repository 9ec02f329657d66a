"""`mnist_scenes`: canvases of 1-6 MNIST digits at random scales and positions, for detection and segmentation.

Generated at run time from the embedded mnist_5k digits and the seed (nothing large is committed).
The digits are split 80/10/10 with the seed exactly as `mnist_5k` is, and the train, validation and
test scenes draw only from their own split's digits, so no test digit is ever seen in training.

Each scene has ground truth for both tasks:
- `boxes`: one per digit, pixel `[x1, y1, x2, y2]` with `x2`, `y2` exclusive (COCO's `x, y, w, h` is
  `x1, y1, x2 - x1, y2 - y1`): the tight box of the digit's ink (its pixels >= `INK`);
- `classes`: the digits' classes 0-9;
- `mask`: 0 for background, `class + 1` on each digit's ink pixels. Where digits overlap (at most
  `MAX_OVERLAP` of the smaller box) the canvas keeps the brighter pixel and the mask its digit.

Canvases are 64x64: digits are pasted 16-32 pixels tall (0.57-1.14x MNIST's 28), large enough to
stay recognisable (strokes 1.5-3 pixels wide) while 6 of them still fit without much overlap, and
a 64x64 canvas trains about 4x faster than the 128x128 the issue suggested.
"""

import dataclasses
import importlib.resources

import numpy as np

from zoo.datasets.splits import shuffled_split_indices

SIZE = 64  # canvas height and width
DIGIT_SIZES = (16, 32)  # smallest and largest pasted digit, pixels (square)
MAX_DIGITS = 6
MAX_OVERLAP = 0.15  # largest intersection of two digits' boxes, as a fraction of the smaller box
INK = 128  # pixels >= INK are a digit's ink (its mask and box)
PLACEMENT_TRIES = 20  # random positions tried per digit before it is left out
SCENES = (3000, 300, 300)  # train, validation, test
SPLIT_NAMES = ("train", "validation", "test")


@dataclasses.dataclass
class Scenes:
    """One split's scenes: `images` uint8 (n, SIZE, SIZE), `masks` uint8 (n, SIZE, SIZE), and per scene
    `boxes` int32 (k, 4) `[x1, y1, x2, y2]` (exclusive ends), `classes` int64 (k,) and `digits` (k,):
    the indices into mnist_5k of the pasted digits."""

    images: np.ndarray
    masks: np.ndarray
    boxes: list
    classes: list
    digits: list

    def __len__(self):
        return len(self.images)


def counts_text(counts):
    """Scene counts as a catalog shows them, e.g. `3,000/300/300`."""
    return "/".join(f"{count:,}" for count in counts)


def load_mnist_5k():
    """`(images uint8 (5000, 28, 28), labels int64 (5000,))` of the embedded digits."""
    path = importlib.resources.files("zoo.datasets") / "data/mnist_5k.npz"
    with path.open("rb") as f, np.load(f) as data:
        return data["images"], data["labels"].astype(np.int64)


def resized_digits(images, sizes):
    """Each image (uint8, 28x28) resized to its square `sizes[i]` (bilinear, antialiased), in one call per size."""
    import tensorflow as tf

    out = [None] * len(images)
    for size in np.unique(sizes):
        where = np.flatnonzero(sizes == size)
        batch = tf.image.resize(images[where][..., None].astype(np.float32), (size, size), antialias=True)
        batch = np.clip(np.round(batch.numpy()[..., 0]), 0, 255).astype(np.uint8)
        for index, patch in zip(where, batch):
            out[index] = patch
    return out


def _ink_box(patch):
    """`[y1, x1, y2, x2]` (exclusive ends) of a patch's ink, or None if it has none."""
    rows, cols = np.flatnonzero((patch >= INK).any(1)), np.flatnonzero((patch >= INK).any(0))
    if not len(rows):
        return None
    return np.array([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1])


def _first_free(candidates, placed):
    """Index of the first of `candidates` (boxes `[y1, x1, y2, x2]`, one per row) that overlaps each of `placed`
    by at most MAX_OVERLAP of the smaller box, or None."""
    if not placed:
        return 0
    others = np.array(placed)[None]
    boxes = candidates[:, None]
    heights = np.minimum(boxes[..., 2], others[..., 2]) - np.maximum(boxes[..., 0], others[..., 0])
    widths = np.minimum(boxes[..., 3], others[..., 3]) - np.maximum(boxes[..., 1], others[..., 1])
    inter = np.maximum(heights, 0) * np.maximum(widths, 0)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    free = np.flatnonzero(np.all(inter <= MAX_OVERLAP * np.minimum(area(boxes), area(others)), axis=1))
    return free[0] if len(free) else None


def _compose(patches, rng, size):
    """One scene from digit `patches`: `(image, owner, boxes, kept)`: `owner` is the index of the digit whose
    pixel the canvas keeps (-1: none), `boxes` `[y1, x1, y2, x2]` of the digits placed, `kept` their indices."""
    image = np.zeros((size, size), np.uint8)
    owner = np.full((size, size), -1, np.int64)
    placed, kept = [], []
    for index, patch in enumerate(patches):
        ink = _ink_box(patch)
        if ink is None:
            continue
        offsets = rng.integers(0, size - patch.shape[0] + 1, (PLACEMENT_TRIES, 2))
        free = _first_free(ink + np.tile(offsets, 2), placed)
        if free is None:
            continue
        y, x = offsets[free]
        window = (slice(y, y + patch.shape[0]), slice(x, x + patch.shape[1]))
        brighter = patch > image[window]
        image[window] = np.where(brighter, patch, image[window])
        owner[window] = np.where(brighter, len(kept), owner[window])
        placed.append(ink + np.array([y, x, y, x]))
        kept.append(index)
    return image, owner, placed, kept


def make_scenes(images, digit_labels, ids, count, rng, size=SIZE):
    """`count` scenes of 1-MAX_DIGITS digits drawn with replacement from uint8 28x28 `images` of classes
    `digit_labels`; `ids` names each digit (its index in mnist_5k) in `Scenes.digits`."""
    per_scene = rng.integers(1, MAX_DIGITS + 1, count)
    chosen = rng.integers(0, len(images), per_scene.sum())
    sizes = rng.integers(DIGIT_SIZES[0], DIGIT_SIZES[1] + 1, per_scene.sum())
    patches = resized_digits(images[chosen], sizes)
    starts = np.concatenate([[0], np.cumsum(per_scene)])
    out = Scenes(np.zeros((count, size, size), np.uint8), np.zeros((count, size, size), np.uint8), [], [], [])
    for scene in range(count):
        members = slice(starts[scene], starts[scene + 1])
        image, owner, placed, kept = _compose(patches[members], rng, size)
        classes = digit_labels[chosen[members]][kept]
        out.images[scene] = image
        out.masks[scene] = np.where((image >= INK) & (owner >= 0), classes[np.maximum(owner, 0)] + 1, 0)
        out.boxes.append(np.array(placed, np.int32).reshape(-1, 4)[:, [1, 0, 3, 2]])
        out.classes.append(classes)
        out.digits.append(ids[chosen[members]][kept])
    return out


def mnist_scenes(seed=0, counts=SCENES, size=SIZE):
    """`{"train" | "validation" | "test": Scenes}`, deterministic in `seed`; each split from its own digits."""
    images, labels = load_mnist_5k()
    digit_splits = shuffled_split_indices(len(labels), seed)
    result = {}
    for number, (name, indices, count) in enumerate(zip(SPLIT_NAMES, digit_splits, counts)):
        rng = np.random.default_rng([seed, number])
        result[name] = make_scenes(images[indices], labels[indices], indices, count, rng, size)
    return result


def segmentation_splits(seed=0, counts=SCENES):
    """`Splits` of `mnist_scenes` for segmentation: `(float32 pixels (SIZE, SIZE, 1), int32 mask (SIZE, SIZE))`."""
    import tensorflow as tf

    from zoo.datasets.splits import Splits, digest_of

    scenes = mnist_scenes(seed, counts)
    datasets = [
        tf.data.Dataset.from_tensor_slices(
            (scenes[name].images[..., None].astype(np.float32), scenes[name].masks.astype(np.int32))
        )
        for name in SPLIT_NAMES
    ]
    digest = digest_of([[scenes[name].images.tobytes(), scenes[name].masks.tobytes()] for name in SPLIT_NAMES])
    names = ["background", *(str(digit) for digit in range(10))]
    return Splits("mnist_scenes", *datasets, names, (SIZE, SIZE, 1), task="image_segmentation", digest=digest)
