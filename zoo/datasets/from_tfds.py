"""What the image and text loaders share for tfds datasets: the builder, its
train/validation/test split names, and the clear error when it is not prepared offline."""

from zoo.errors import ZooError


def builder(name, data_dir, choices):
    """Returns `tfds.builder(name)`, or a ZooError naming `choices` for an unknown name."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ZooError(f"Unknown dataset {name!r}: use {choices}.") from None


def split_names(builder, unlabeled_test=False):
    """Train/validation/test split names: the dataset's own where it has them, else
    slices of its train split. `unlabeled_test`: its test split has no labels
    (GLUE), so its validation split serves as test."""
    splits = builder.info.splits
    if unlabeled_test:
        return ["train[:90%]", "train[90%:]", "validation"]
    if "validation" in splits and "test" in splits:
        return ["train", "validation", "test"]
    if "test" in splits:
        return ["train[:90%]", "train[90%:]", "test"]
    return ["train[:80%]", "train[80%:90%]", "train[90%:]"]


def as_datasets(name, builder, split_names, **kwargs):
    """`builder.as_dataset` for each of `split_names`, with a one-line error when
    dataset `name` is not prepared (nothing is downloaded)."""
    try:
        return [builder.as_dataset(split=split, shuffle_files=False, **kwargs) for split in split_names]
    except AssertionError as error:  # tfds' way of saying "not downloaded"
        if "could not find data" not in str(error):
            raise
        raise ZooError(
            f"tfds dataset {name!r} is not prepared in {builder.data_dir_root}: on a "
            f"machine with internet run `tfds build {name} --data_dir=DIR`, copy DIR "
            "here and pass --data_dir=DIR."
        ) from None


def digest(name, builder):
    """Identifies a prepared tfds dataset: its name, version and split sizes."""
    from zoo.datasets.splits import digest_of

    sizes = [f"{split}:{info.num_examples}" for split, info in sorted(builder.info.splits.items())]
    return digest_of([[name, str(builder.info.version)], sizes, []])
