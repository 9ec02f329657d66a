"""What `export_run` needs from a run, by task: the part of the model that TFLite
runs, test and calibration data, and the sidecar entries that describe the input.

Images: TFLite runs the whole model on raw pixels. Text: Keras and the SavedModel
take raw strings, but TFLite has no builtin string kernels, so it runs the
token-id part of the model (`zoo.text.token_id_model`) on the ids of the Python
tokenizer (`zoo.text.tokenizer_of`), whose rules and vocabulary travel in the
sidecar; `export.Predictor` tokenizes with them, as a phone does.
"""

import dataclasses

import keras
import numpy as np

import zoo
from zoo import text
from zoo.datasets import load_image_dataset, load_text_dataset
from zoo.errors import ZooError

CALIBRATION_EXAMPLES = 300


@dataclasses.dataclass
class RunData:
    """A run's model and data, as `export_run` uses them.

    Attributes:
        tflite_model: the part of the model that TFLite runs (all of it for images).
        test_inputs: the test split's raw inputs (pixels, or texts), as the Keras
            model, the SavedModel and `Predictor` take them.
        test_labels: their int labels.
        calibration: a few hundred training inputs as `tflite_model` takes them
            (pixels, or token ids from the model's own tokenization), for int8.
        metadata: sidecar entries: task, labels and what the input is.
    """

    tflite_model: keras.Model
    test_inputs: np.ndarray
    test_labels: np.ndarray
    calibration: list
    metadata: dict


def _training_inputs(split):
    return [x for x, _ in split.take(CALIBRATION_EXAMPLES).as_numpy_iterator()]


def _image_data(run, model, data_dir):
    image_size = tuple(run["image_size"]) if run.get("image_size") else None
    splits = load_image_dataset(run["dataset"], seed=run["seed"], data_dir=data_dir, image_size=image_size)
    if tuple(splits.input_shape) != tuple(model.input_shape[1:]):
        raise ZooError(
            f"Dataset {run['dataset']} gives inputs of shape {splits.input_shape} but the "
            f"model takes {model.input_shape[1:]}: pass the --data_dir the run was trained with."
        )
    metadata = dict(
        input_value_range=[0, 255],
        input_description="raw pixels 0-255, (height, width, channels); rescaling is inside the model",
    )
    return splits, model, _training_inputs(splits.train), metadata


def _text_data(run, model, data_dir):
    splits = load_text_dataset(run["dataset"], seed=run["seed"], data_dir=data_dir)
    calibration = text.keras_token_ids(model, _training_inputs(splits.train))
    metadata = dict(
        input_description="int32 token ids (1, sequence_length) of one text, from `tokenizer` "
        "(rules and vocabulary); the SavedModel takes raw strings",
        tokenizer=text.tokenizer_of(model).config(),
    )
    return splits, text.token_id_model(model), list(calibration), metadata


# task -> loader(run, model, data_dir): (splits, the model TFLite runs, calibration
# inputs as that model takes them, sidecar entries).
_LOADERS = {"image_classification": _image_data, "text_classification": _text_data}


def load_run_data(run, model, data_dir=None):
    """Returns the `RunData` of a trained `model` from the run settings `run`
    (config.json's "run"); `data_dir` is the tfds data directory."""
    task = zoo.model_info(run["model"])["task"]
    if task not in _LOADERS:
        raise ZooError(
            f"export_run exports {' and '.join(_LOADERS)} models; {run['model']} is a {task} model."
        )
    splits, tflite_model, calibration, metadata = _LOADERS[task](run, model, data_dir)
    if splits.num_classes != model.output_shape[-1]:
        raise ZooError(
            f"Dataset {run['dataset']} has {splits.num_classes} classes but the model has "
            f"{model.output_shape[-1]} outputs: export with the data the run was trained on."
        )
    inputs, labels = zip(*splits.test.batch(1024).as_numpy_iterator())
    return RunData(
        tflite_model, np.concatenate(inputs), np.concatenate(labels), calibration,
        dict(task=task, labels=splits.class_names, **metadata),
    )
