"""Trains an image classifier from the zoo and writes the run to --model_dir.

    python -m zoo_apps.image_classify --model=cnn              # mnist_5k, embedded, offline
    python -m zoo_apps.image_classify --model=resnet20 --dataset=folder:photos/ --image_size=32,32
    python -m zoo_apps.image_classify --model=cnn --dataset=folder:my_digits/ --image_size=28,28 \\
        --pretrained=default --export=int8    # fine-tune cnn_mnist_5k, then export
"""

from absl import flags

from zoo.errors import ZooError
from zoo_apps import adversarial
from zoo_apps.core import run_app


def define_flags(flag_values):
    flags.DEFINE_list("image_size", None, "HEIGHT,WIDTH to resize folder or tfds images to.", flag_values=flag_values)
    flags.DEFINE_boolean(
        "skip_bad_files",
        False,
        "Train without folder images that cannot be decoded (the run records "
        "them) instead of stopping with an error that names them.",
        flag_values=flag_values,
    )
    adversarial.define_flags(flag_values)


def image_size_option(size):
    """--image_size as `[height, width]`, or None; `ZooError` for anything else."""
    try:
        size = [int(value) for value in size] if size else None
    except ValueError:
        raise ZooError(f"--image_size takes HEIGHT,WIDTH in pixels, e.g. 32,32. Received: {','.join(size)}") from None
    if size is not None and len(size) != 2:
        raise ZooError(f"--image_size takes two numbers, HEIGHT,WIDTH. Received: {','.join(map(str, size))}")
    return size


def options(flag_values):
    """The data options: image size (resizing) and whether to skip undecodable files."""
    size = image_size_option(flag_values.image_size)
    chosen = dict(image_size=size, skip_bad_files=flag_values.skip_bad_files or None)
    return {name: value for name, value in chosen.items() if value is not None}


def main(argv=None):
    return run_app("image_classification", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
