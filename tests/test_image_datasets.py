import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo
from zoo.datasets import batched, load_image_dataset


def as_arrays(dataset):
    images, labels = zip(*dataset.as_numpy_iterator())
    return np.stack(images), np.array(labels)


def test_mnist_5k_is_embedded_and_split_by_seed():
    splits = load_image_dataset("mnist_5k", seed=0)
    assert splits.input_shape == (28, 28, 1) and splits.class_names == list("0123456789")
    train_x, train_y = as_arrays(splits.train)
    test_x, test_y = as_arrays(splits.test)
    assert (len(train_y), len(test_y), int(splits.validation.cardinality())) == (4000, 500, 500)
    assert train_x.dtype == np.float32 and train_x.max() == 255 and train_x.min() == 0
    # The file is sorted by class: a seeded shuffle must mix all classes into every split.
    assert set(train_y) == set(test_y) == set(range(10))
    assert not {x.tobytes() for x in train_x} & {x.tobytes() for x in test_x}
    same = load_image_dataset("mnist_5k", seed=0)
    other = load_image_dataset("mnist_5k", seed=1)
    np.testing.assert_array_equal(as_arrays(same.test)[1], test_y)
    assert not np.array_equal(as_arrays(other.test)[1], test_y)


def test_digits_are_rescaled_to_raw_pixels():
    splits = load_image_dataset("digits")
    images, labels = as_arrays(splits.train)
    assert splits.input_shape == (8, 8, 1) and images.max() == 255
    assert not splits.augment_flip


def write_png(path, value, size=(12, 10), channels=3):
    image = np.full((*size, channels), value, np.uint8)
    tf.io.write_file(str(path), tf.io.encode_png(image))


def test_image_folder_one_subfolder_per_class(tmp_path):
    for name, value in (("cat", 10), ("dog", 200)):
        (tmp_path / name).mkdir()
        for i in range(10):
            write_png(tmp_path / name / f"{i}.png", value)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    splits = load_image_dataset(f"folder:{tmp_path}", image_size=(8, 6))
    assert splits.class_names == ["cat", "dog"] and splits.input_shape == (8, 6, 3)
    images, labels = as_arrays(splits.train.concatenate(splits.validation).concatenate(splits.test))
    assert len(labels) == 20 and images.shape[1:] == (8, 6, 3)
    assert np.all(images[labels == 0] == 10) and np.all(images[labels == 1] == 200)
    assert splits.augment_flip


def test_image_folder_errors(tmp_path):
    with pytest.raises(zoo.ZooError, match="does not exist"):
        load_image_dataset(f"folder:{tmp_path}/missing")
    (tmp_path / "only_class").mkdir()
    write_png(tmp_path / "only_class" / "a.png", 1)
    with pytest.raises(zoo.ZooError, match="at least two sub-folders"):
        load_image_dataset(f"folder:{tmp_path}")


def test_tfds_datasets_load_by_name():
    with tfds.testing.mock_data(num_examples=12):
        splits = load_image_dataset("fashion_mnist")
        images, labels = as_arrays(splits.train)
    assert splits.input_shape == (28, 28, 1) and len(splits.class_names) == 10
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.float32


def test_tfds_offline_error_says_how_to_provide_the_data(tmp_path):
    with pytest.raises(zoo.ZooError, match="not prepared in .*tfds build mnist --data_dir"):
        load_image_dataset("mnist", data_dir=str(tmp_path))
    with pytest.raises(zoo.ZooError, match="Unknown dataset 'no_such_set'"):
        load_image_dataset("no_such_set")


def test_batched_pipeline_shuffles_and_augments_reproducibly():
    splits = load_image_dataset("digits")

    def first_batch(seed, augment):
        dataset = batched(splits.train, 32, shuffle_seed=seed, augment=augment)
        return next(iter(dataset))

    plain_x, plain_y = first_batch(0, False)
    aug_x, aug_y = first_batch(0, True)
    np.testing.assert_array_equal(plain_y, aug_y)
    assert aug_x.shape == plain_x.shape == (32, 8, 8, 1)
    assert not np.allclose(aug_x, plain_x)  # augmentation changes pixels ...
    np.testing.assert_array_equal(first_batch(0, True)[0], aug_x)  # ... reproducibly
    assert not np.array_equal(first_batch(1, False)[1], plain_y)

    dataset = batched(splits.train, 32, shuffle_seed=0, augment=True)
    epoch1, epoch2 = (next(iter(dataset))[0] for _ in range(2))
    assert not np.allclose(epoch1, epoch2)  # fresh order and augmentation every epoch


def folder_of_pngs(root, classes=("cat", "dog"), count=10):
    for value, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(count):
            write_png(root / name / f"{i}.png", 10 + 100 * value)
    return root


def test_hidden_folders_are_ignored_and_an_empty_class_is_an_error(tmp_path):
    root = folder_of_pngs(tmp_path / "data")
    (root / ".ipynb_checkpoints").mkdir()
    write_png(root / ".ipynb_checkpoints" / "0.png", 1)
    write_png(root / "cat" / ".hidden.png", 1)
    splits = load_image_dataset(f"folder:{root}")
    assert splits.class_names == ["cat", "dog"]
    assert sum(int(split.cardinality()) for split in (splits.train, splits.validation, splits.test)) == 20
    (root / "bird").mkdir()
    with pytest.raises(zoo.ZooError, match="bird' holds no image files"):
        load_image_dataset(f"folder:{root}")


@pytest.mark.parametrize("bad", ["truncated", "random", "symlink"])
def test_undecodable_files_are_named_before_training_or_skipped(tmp_path, bad):
    root = folder_of_pngs(tmp_path / "data")
    good = (root / "cat" / "0.png").read_bytes()
    target = root / "dog" / "broken.png"
    if bad == "truncated":
        target.write_bytes(good[: len(good) // 2])
    elif bad == "random":
        target.write_bytes(np.random.default_rng(0).bytes(200))
    else:
        target.symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(zoo.ZooError, match=r"1 image file\(s\) cannot be decoded: '.*broken.png'.*--skip_bad_files"):
        load_image_dataset(f"folder:{root}")
    splits = load_image_dataset(f"folder:{root}", skip_bad_files=True)
    assert splits.notes == {"skipped_files": [str(target)]}
    assert sum(int(split.cardinality()) for split in (splits.train, splits.validation, splits.test)) == 20


def test_too_few_examples_to_split_is_an_error(tmp_path):
    root = folder_of_pngs(tmp_path / "data", count=2)
    with pytest.raises(zoo.ZooError, match="4 examples are too few to split 80/10/10"):
        load_image_dataset(f"folder:{root}")


def test_the_digest_changes_with_the_data(tmp_path):
    root = folder_of_pngs(tmp_path / "data")
    first = load_image_dataset(f"folder:{root}").digest
    assert load_image_dataset(f"folder:{root}").digest == first
    (root / "cat" / "0.png").unlink()
    assert load_image_dataset(f"folder:{root}").digest != first
    assert load_image_dataset("digits", seed=0).digest != load_image_dataset("digits", seed=1).digest
