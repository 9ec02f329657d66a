"""The digit-scene generator: deterministic, disjoint source digits per split, masks that agree with boxes."""

import numpy as np
import pytest

from zoo.datasets import scenes as scenes_module
from zoo.datasets.scenes import MAX_DIGITS, SIZE, mnist_scenes, segmentation_splits

COUNTS = (40, 15, 15)


@pytest.fixture(scope="module")
def scenes():
    return mnist_scenes(seed=3, counts=COUNTS)


def test_the_same_seed_gives_the_same_scenes_and_another_seed_others(scenes):
    again, other = mnist_scenes(seed=3, counts=COUNTS), mnist_scenes(seed=4, counts=COUNTS)
    for name in ("train", "validation", "test"):
        np.testing.assert_array_equal(scenes[name].images, again[name].images)
        np.testing.assert_array_equal(scenes[name].masks, again[name].masks)
        assert all(np.array_equal(a, b) for a, b in zip(scenes[name].boxes, again[name].boxes))
    assert not np.array_equal(scenes["train"].images, other["train"].images)


def test_splits_draw_on_disjoint_source_digits_the_same_as_mnist_5k_splits(scenes):
    used = {name: set(np.concatenate(split.digits).tolist()) for name, split in scenes.items()}
    assert not used["train"] & used["test"] and not used["train"] & used["validation"]
    assert not used["validation"] & used["test"]
    train_digits, _, test_digits = scenes_module.shuffled_split_indices(5000, 3)
    assert used["train"] <= set(train_digits.tolist()) and used["test"] <= set(test_digits.tolist())


def test_every_mask_pixel_lies_in_a_box_of_its_class_and_every_box_holds_its_digits_ink(scenes):
    images, labels = scenes_module.load_mnist_5k()
    for split in scenes.values():
        assert split.images.shape == split.masks.shape == (len(split), SIZE, SIZE)
        for image, mask, boxes, classes, digits in zip(
            split.images, split.masks, split.boxes, split.classes, split.digits
        ):
            assert 1 <= len(boxes) <= MAX_DIGITS and len(boxes) == len(classes)
            np.testing.assert_array_equal(labels[digits], classes)
            assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= SIZE).all()
            assert (boxes[:, 2:] > boxes[:, :2]).all()
            covered = np.zeros_like(mask, bool)
            for (x1, y1, x2, y2), label in zip(boxes, classes):
                inside = mask[y1:y2, x1:x2]
                assert (inside == label + 1).any()  # each digit keeps visible ink
                covered[y1:y2, x1:x2] |= inside == label + 1
            np.testing.assert_array_equal(covered, mask > 0)
            np.testing.assert_array_equal(mask > 0, image >= scenes_module.INK)


def test_segmentation_splits_give_pixels_and_masks_with_background_first():
    splits = segmentation_splits(seed=1, counts=(8, 4, 4))
    image, mask = next(iter(splits.train))
    assert image.dtype.name == "float32" and image.shape == (SIZE, SIZE, 1) and float(image.numpy().max()) <= 255
    assert mask.dtype.name == "int32" and mask.shape == (SIZE, SIZE) and int(mask.numpy().max()) <= 10
    assert splits.class_names[:2] == ["background", "0"] and splits.num_classes == 11
    assert splits.digest == segmentation_splits(seed=1, counts=(8, 4, 4)).digest
