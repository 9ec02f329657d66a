"""Trains a semantic segmenter (a class per pixel) from the zoo and writes the run to --model_dir.

python -m zoo_apps.segment                                  # unet on mnist_scenes, generated offline
python -m zoo_apps.segment --model=deeplab_v3 --export=int8
python -m zoo_apps.segment --dataset=folder:my_scenes/ --image_size=96,96   # images/, masks/, classes.txt
"""

from zoo_apps.core import run_app
from zoo_apps.image_classify import image_size_option


def define_flags(flag_values):
    from absl import flags

    flags.DEFINE_list(
        "image_size", None, "HEIGHT,WIDTH to resize folder images (and, nearest, masks) to.", flag_values=flag_values
    )


def options(flag_values):
    """The data option: the image size folder images and masks are resized to."""
    size = image_size_option(flag_values.image_size)
    return {} if size is None else dict(image_size=size)


def main(argv=None):
    return run_app("image_segmentation", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
