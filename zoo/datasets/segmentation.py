"""Segmentation datasets: `mnist_scenes` (generated) and `folder:DIR` (your images and PNG masks).

`folder:DIR` holds `DIR/images/` (png/jpg/bmp), `DIR/masks/` with a PNG of the same name (stem) per image,
palette or 8-bit gray, whose pixel values are class ids, and `DIR/classes.txt`: one class name per line,
line 1 for id 0 (usually the background). Every file is read once before anything is written; a missing
mask, a mask of another size than its image, or ids beyond the class list are one-line errors naming the file.
"""

import pathlib

import numpy as np

from zoo.datasets import scenes
from zoo.datasets.splits import Splits, digest_of, shuffled_split_indices
from zoo.errors import ZooError
from zoo.memory import check_images_fit

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
LAYOUT = "DIR/images/*.png|jpg, DIR/masks/<same name>.png (class ids as palette or gray values), DIR/classes.txt"


def _read_mask(path):
    """A PNG mask's class ids (uint8, (height, width)): palette indices or gray values."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode not in ("P", "L"):
                raise ZooError(
                    f"Mask {str(path)!r} is a {image.mode} image: save masks as palette (P) or 8-bit gray (L) PNGs "
                    "whose pixel values are class ids."
                )
            return np.asarray(image, np.uint8)
    except (UnidentifiedImageError, OSError):
        raise ZooError(f"Mask {str(path)!r} cannot be read as a PNG: fix or replace it.") from None


def _read_image(path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L" if image.mode in ("L", "P", "1", "I;16") else "RGB"))
    except (UnidentifiedImageError, OSError):
        raise ZooError(f"Image {str(path)!r} cannot be decoded: fix or delete it (and its mask).") from None


def _class_names(root):
    path = root / "classes.txt"
    if not path.is_file():
        raise ZooError(f"{str(path)!r} is missing: write one class name per line (line 1: id 0). Layout: {LAYOUT}.")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if len(names) < 2:
        raise ZooError(f"{str(path)!r} names {len(names)} class(es): list at least two (e.g. background and one).")
    return names


def _pairs(root):
    """`(image files, mask files)` in name order; a missing mask is an error naming its image."""
    for folder in ("images", "masks"):
        if not (root / folder).is_dir():
            raise ZooError(f"{str(root / folder)!r} is missing. Layout: {LAYOUT}.")
    images = sorted(
        path
        for path in (root / "images").iterdir()
        if path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")
    )
    if not images:
        raise ZooError(f"{str(root / 'images')!r} holds no images ({'/'.join(IMAGE_EXTENSIONS)}).")
    masks = [root / "masks" / f"{path.stem}.png" for path in images]
    for image, mask in zip(images, masks):
        if not mask.is_file():
            raise ZooError(f"Image {str(image)!r} has no mask: add {str(mask)!r} (a PNG of class ids).")
    return images, masks


def _checked(image_path, mask_path, num_classes):
    image, mask = _read_image(image_path), _read_mask(mask_path)
    if image.shape[:2] != mask.shape:
        raise ZooError(
            f"Mask {str(mask_path)!r} is {mask.shape[1]}x{mask.shape[0]} but its image is "
            f"{image.shape[1]}x{image.shape[0]}: masks must have their image's size."
        )
    unknown = sorted(set(np.unique(mask).tolist()) - set(range(num_classes)))
    if unknown:
        raise ZooError(
            f"Mask {str(mask_path)!r} holds class ids {unknown[:10]} beyond the {num_classes} classes of "
            f"classes.txt (ids 0-{num_classes - 1}): add their names or fix the mask."
        )
    return image if image.ndim == 3 else image[..., None], mask


def _resized(image, mask, size):
    """The image resized bilinearly and the mask by nearest neighbour to `size` (height, width)."""
    import tensorflow as tf

    if tuple(image.shape[:2]) == tuple(size):
        return image, mask
    image = tf.image.resize(image.astype(np.float32), size).numpy()
    mask = tf.image.resize(mask[..., None], size, method="nearest").numpy()[..., 0]
    return image, mask


def _folder(path, seed, image_size=None):
    root = pathlib.Path(path)
    if not root.is_dir():
        raise ZooError(f"Segmentation folder {str(root)!r} does not exist. Layout: {LAYOUT}.")
    names = _class_names(root)
    image_files, mask_files = _pairs(root)
    pairs = [_checked(image, mask, len(names)) for image, mask in zip(image_files, mask_files)]
    channels = 3 if any(image.shape[-1] == 3 for image, _ in pairs) else 1
    size = tuple(image_size or pairs[0][0].shape[:2])
    check_images_fit(len(pairs), (*size, channels))
    pairs = [_resized(np.repeat(image, channels // image.shape[-1], -1), mask, size) for image, mask in pairs]
    images = np.stack([image for image, _ in pairs]).astype(np.float32)
    masks = np.stack([mask for _, mask in pairs]).astype(np.int32)
    indices = shuffled_split_indices(len(images), seed)
    identities = [[f"{image_files[i].name}:{image_files[i].stat().st_size}" for i in idx] for idx in indices]
    return [(images[idx], masks[idx]) for idx in indices], names, (*size, channels), digest_of(identities)


def load_segmentation_dataset(name, seed=0, data_dir=None, image_size=None, skip_bad_files=False):
    """Returns the `Splits` of a segmentation dataset: `(float32 pixels 0-255, int32 mask of class ids)`.

    Args:
        name: `mnist_scenes` (generated from the seed) or `folder:DIR` (see the module's docstring).
        seed: seed of the scenes, or of the folder's 80/10/10 split.
        image_size: `(height, width)` to resize folder images (bilinear) and masks (nearest) to.
    """
    import tensorflow as tf

    if skip_bad_files:
        raise ZooError("--skip_bad_files is for classification folders: fix or remove the named segmentation files.")
    if name == "mnist_scenes":
        if image_size:
            raise ZooError("mnist_scenes has a fixed image size (64x64); image_size resizes folder images: drop it.")
        return scenes.segmentation_splits(seed)
    if not name.startswith("folder:"):
        raise ZooError(f"Unknown segmentation dataset {name!r}: use mnist_scenes or folder:DIR ({LAYOUT}).")
    arrays, names, shape, digest = _folder(name.removeprefix("folder:"), seed, image_size)
    datasets = [tf.data.Dataset.from_tensor_slices(pair) for pair in arrays]
    flip = shape[-1] == 3
    return Splits(name, *datasets, names, shape, task="image_segmentation", augment_flip=flip, digest=digest)
