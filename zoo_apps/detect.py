"""Trains an object detector from the zoo and writes the run to --model_dir.

python -m zoo_apps.detect                                  # centernet on mnist_scenes, generated offline
python -m zoo_apps.detect --model=centernet_mobilenet_v2    # or --model=retinanet (keras-hub's RetinaNet)
python -m zoo_apps.detect --dataset=coco:data/annotations.json --image_size=128,128 --export=int8
python -m zoo_apps.detect --dataset=yolo:data/digits --image_size=128,128   # images/, labels/, classes.txt
"""

from absl import flags

from zoo.errors import ZooError
from zoo_apps.core import run_app


def define_flags(flag_values):
    flags.DEFINE_list("image_size", None, "HEIGHT,WIDTH to resize your images (and boxes) to.", flag_values=flag_values)
    flags.DEFINE_boolean(
        "skip_bad_boxes",
        False,
        "Train without the boxes (and images) that are bad (outside the image, zero area, unknown class, missing "
        "image); the run records them. Default: stop with an error that names the file.",
        flag_values=flag_values,
    )


def image_size_option(size):
    """--image_size as `dict(image_size=[height, width])` (empty when unset); `ZooError` for bad values."""
    try:
        size = [int(value) for value in size] if size else None
    except ValueError:
        raise ZooError(f"--image_size takes HEIGHT,WIDTH in pixels, e.g. 128,128. Received: {','.join(size)}") from None
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise ZooError(f"--image_size takes two positive numbers, HEIGHT,WIDTH. Received: {','.join(map(str, size))}")
    return dict(image_size=size) if size else {}


def options(flag_values):
    """The data options: image size and whether to skip bad boxes."""
    chosen = image_size_option(flag_values.image_size)
    return {**chosen, **({"skip_bad_boxes": True} if flag_values.skip_bad_boxes else {})}


def main(argv=None):
    return run_app("object_detection", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
