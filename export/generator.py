"""`Generator`: an exported image generator (a GAN's) on seeds and class labels, as a phone runs it."""

import numbers

import numpy as np

from export.predictor import Predictor
from zoo.errors import ZooError


class Generator(Predictor):
    """Runs a generator file written by `export` for an `image_generation` run: noise (and a class
    label per image for conditional models) in, raw 0-255 pixels out.

    The noise of a seed is the Keras model's (`GAN.noise`: numpy's standard normal from
    `default_rng(seed)`), so a file and its Keras model make the same images from the same seed;
    the latent size and the classes come from the sidecar.

        generator = export.Generator("runs/conditional_dcgan_mnist_5k/export/model_int8.tflite")
        images = generator.generate(10, seed=0, labels=range(10))  # float32 (10, 28, 28, 1), 0-255

    Args:
        model_path: a `.tflite` file with its `.json` sidecar.
        num_threads: CPU threads for the LiteRT interpreter.
    """

    def __init__(self, model_path, num_threads=1):
        super().__init__(model_path, num_threads)
        if "generator" not in self.metadata:
            raise ZooError(
                f"{self.path.name} is a {self.metadata.get('task', 'image_classification')} model, not an image "
                "generator: run it with export.Predictor."
            )
        self.latent_dim = self.metadata["generator"]["latent_dim"]
        self.num_classes = self.metadata["generator"]["num_classes"]
        self.labels = self.metadata["generator"]["class_names"]
        self.image_shape = tuple(int(size) for size in self._output["shape"][1:])

    def noise(self, num_images, seed=0):
        """Returns `num_images` latent vectors from numpy's standard normal with `seed` (as `GAN.noise`)."""
        return np.random.default_rng(seed).standard_normal((num_images, self.latent_dim)).astype("float32")

    def generate(self, num_images, seed=0, labels=None):
        """Returns `num_images` float32 images, pixels 0-255 (`np.round(...).astype(np.uint8)` for files).

        Args:
            num_images: how many.
            seed: of the noise; the Keras model makes the same images from the same seed.
            labels: conditional models only: the class of each image (an int or a class name,
                or one per image); default: the classes in turn, 0, 1, ..., 0, 1, ...
        """
        if not isinstance(num_images, numbers.Integral) or num_images < 1:
            raise ZooError(f"num_images must be a positive int. Received: num_images={num_images!r}")
        noise = self.noise(num_images, seed)
        if not self.num_classes:
            if labels is not None:
                raise ZooError(f"{self.path.name} is unconditional: it takes no labels. Received: labels={labels!r}")
            return np.clip(self.outputs(noise), 0, 255)
        labels = np.arange(num_images) % self.num_classes if labels is None else self._class_ids(labels, num_images)
        return np.clip(self.outputs([noise, labels]), 0, 255)

    def _class_ids(self, labels, num_images):
        labels = [labels] * num_images if isinstance(labels, (str, numbers.Integral)) else list(labels)
        names = {name: index for index, name in enumerate(self.labels)}
        ids = [names.get(label, label) if isinstance(label, str) else label for label in labels]
        valid = all(isinstance(label, numbers.Integral) and 0 <= label < self.num_classes for label in ids)
        if len(ids) != num_images or not valid:
            raise ZooError(
                f"{self.path.name} takes one label per image ({num_images}), each a class id 0-{self.num_classes - 1} "
                f"or a class name ({', '.join(self.labels)}). Received: labels={labels!r}"
            )
        return np.asarray(ids, np.int32)
