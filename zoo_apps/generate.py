"""Trains a GAN from the zoo to draw images like a dataset's, and writes the run to --model_dir.

    python -m zoo_apps.generate                       # conditional_dcgan on mnist_5k, embedded, offline
    python -m zoo_apps.generate --model=dcgan --export=float32,int8
    python -m zoo_apps.generate --model=conditional_dcgan --dataset=digits --epochs=200

Every epoch draws a grid from fixed noise into --model_dir/samples/ and TensorBoard (logs/samples);
metrics.json measures the images with a zoo classifier of the same data (Frechet distance and its
floors, classifier score, class match); `export.Generator` runs an exported generator.
"""

from zoo_apps.core import run_app


def define_flags(flag_values):
    """The app has only the shared flags."""


def options(flag_values):
    """No model or data options."""
    return {}


def main(argv=None):
    return run_app("image_generation", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
