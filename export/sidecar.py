"""The JSON sidecar that travels with each TFLite file (`model_int8.tflite` + `model_int8.json`).

The TFLite metadata flatbuffer that Android tooling reads is written by
`tflite-support`, whose last release (0.4.4) pins protobuf 3.20, which
TensorFlow 2.21 (protobuf >= 6.31) cannot use; a JSON file of the same name
works with any runtime and any language.
"""

import json
import pathlib

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from zoo.errors import ZooError
from zoo.files import write_json


def path_for(model_path):
    """Returns the sidecar of a TFLite file: the same name with `.json`."""
    return pathlib.Path(model_path).with_suffix(".json")


def _tensor(name, detail):
    scale, zero_point = detail["quantization"]
    return dict(
        name=name,
        shape=[None if size < 0 else int(size) for size in detail["shape_signature"]],
        dtype=np.dtype(detail["dtype"]).name,
        quantization=dict(scale=float(scale), zero_point=int(zero_point)) if scale else None,
    )


def describe_tflite(tflite_model):
    """Returns the inputs and outputs (name, shape, dtype, quantization) of a
    TFLite flatbuffer, named as in its `serving_default` signature."""
    signature = Interpreter(model_content=tflite_model).get_signature_runner()
    return dict(
        inputs=[_tensor(*item) for item in signature.get_input_details().items()],
        outputs=[_tensor(*item) for item in signature.get_output_details().items()],
    )


def write(model_path, sidecar):
    """Writes `sidecar` (a dict) beside `model_path`, atomically."""
    write_json(path_for(model_path), sidecar)


def read(model_path):
    """Returns the sidecar of `model_path`; `ZooError` if it is missing or unreadable."""
    path = path_for(model_path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ZooError(
            f"{path} is missing: it holds the labels and input description of "
            f"{model_path}; export the model with `python -m export` or `export.to_tflite`."
        ) from None
    except json.JSONDecodeError as error:
        raise ZooError(f"{path} is not valid JSON ({error}): export the model again.") from None
