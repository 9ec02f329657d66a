"""From a Keras model to a SavedModel and to TFLite files with builtin operators only.

Conversion goes through a SavedModel (`keras.export.ExportArchive`, then
`TFLiteConverter.from_saved_model`): `from_keras_model` fails for many Keras 3
models on TF >= 2.16 (tensorflow/tensorflow#63987). Keras's own `format="litert"`
(3.13+) takes this same path, but allows Flex ops by default and traces the model
again for every file; here one SavedModel serves all four flavours.
"""

import json
import pathlib
import tempfile

import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.python.convert_phase import ConverterError  # not in tf.lite's public API

from export import operators, sidecar
from export.embedded import with_metadata
from zoo.errors import ZooError
from zoo.files import atomic_path
from zoo.versions import library_versions

# TFLite flavours, as file names (model_<flavour>.tflite), flags and the report name them.
FLAVOURS = ("float32", "float16", "dynamic", "int8")


def _without_mixed_precision(config):
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            name = config["config"]["name"]
            if name.startswith("mixed_"):
                return dict(config, config=dict(config["config"], name="float32"))
        return {key: _without_mixed_precision(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_without_mixed_precision(value) for value in config]
    return config


def float32_model(model):
    """Returns `model` computing in float32: a copy with the same weights if it was
    trained with mixed precision (TFLite has no bfloat16 kernels), else `model`."""
    serialized = keras.saving.serialize_keras_object(model)
    float32 = _without_mixed_precision(serialized)
    if float32 == serialized:
        return model
    copy = keras.saving.deserialize_keras_object(float32)
    copy.set_weights(model.get_weights())
    return copy


def input_signature(model, batch_size=None):
    """The model's inputs as `tf.TensorSpec`s with a batch dimension of `batch_size`."""
    return [tf.TensorSpec((batch_size, *tensor.shape[1:]), tensor.dtype, name=tensor.name) for tensor in model.inputs]


def to_saved_model(model, path, batch_size=None, output_name="logits"):
    """Writes `model` as a SavedModel whose `serving_default` signature takes the
    model's raw inputs by name (`pixels`: 0-255 for vision models) and returns
    `{output_name: ...}`.

    The signature calls the model with `training=False` explicitly: `model.export()`
    calls it without, and a layer whose `call()` defaults to `training=True`
    (Keras 3 image preprocessing layers such as `Resizing`, as in `mobilenet_v2`
    below 32 pixels) then puts every later BatchNormalization and Dropout in
    training mode.

    Args:
        model: a `keras.Model`; mixed-precision models are exported in float32.
        path: the SavedModel folder to write (atomically: renamed into place when complete).
        batch_size: a fixed batch size, or None for any.
        output_name: the signature's output name (the task's: `logits` for classifiers).

    Returns:
        `path` as a `pathlib.Path`.
    """
    model = float32_model(model)

    def serve(*inputs):
        outputs = model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
        return outputs if isinstance(outputs, dict) else {output_name: outputs}  # a dict: several named outputs

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=input_signature(model, batch_size))
    with atomic_path(path) as tmp:
        archive.write_out(str(tmp), verbose=False)
    return pathlib.Path(path)


def _calibration_batches(representative_data):
    def batches():
        for example in representative_data:
            if isinstance(example, dict):  # by the signature's input names: safe in any input order
                yield {name: np.asarray(part)[None] for name, part in example.items()}
                continue
            parts = example if isinstance(example, (tuple, list)) else [example]
            yield [np.asarray(part)[None] for part in parts]

    return batches


def _converter(saved_model, flavour, representative_data, tensor_types):
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if flavour != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if flavour == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if flavour == "int8":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.representative_dataset = _calibration_batches(representative_data)
        # The input side and the head choose the types of a float input and output: uint8 pixels (what a
        # camera and MediaPipe give), float32 scores (unclipped, what MediaPipe reads). Integer inputs (token
        # ids) stay as they are.
        input_type, output_type = tensor_types
        converter.inference_input_type = tf.as_dtype(input_type)
        converter.inference_output_type = tf.as_dtype(output_type)
    return converter


def _partly_quantized(converter, float_operators, tensor_types):
    """Full-integer quantization but for the operator types `float_operators`, which stay float32 (e.g. an audio
    front end: int8 cannot hold a waveform's quiet samples nor a power spectrum's range); MLIR's quantizer with
    a deny list, after calibration. A float input and output keep the types of `tensor_types`."""
    from tensorflow.lite.python import convert as lite_convert

    converter._experimental_calibrate_only = True
    input_type, output_type = (tf.as_dtype(kind) for kind in tensor_types)
    return lite_convert.mlir_quantize(
        converter.convert(),
        input_data_type=input_type,
        output_data_type=output_type,
        denylisted_ops=list(float_operators),
    )


def _convert(saved_model, flavour, representative_data, name, tensor_types, metadata=None):
    float_operators = (metadata or {}).get("int8_float_operators", ())  # the input side's, e.g. an audio front end
    try:
        converter = _converter(saved_model, flavour, representative_data, tensor_types)
        if flavour == "int8" and float_operators:
            return _partly_quantized(converter, float_operators, tensor_types)
        return converter.convert()
    except ConverterError as error:
        needs = sorted({e.operator.name for e in error.errors if e.operator.name})
        if not needs:
            raise
        raise ZooError(
            f"{name}: the model needs operators that have no TFLite builtin kernel "
            f"({', '.join(needs)}), and Flex/SELECT_TF_OPS is not allowed: replace the "
            "layers that use them, see https://ai.google.dev/edge/litert/models/ops_compatibility."
        ) from None


INT8_TENSOR_TYPES = ("int8", "uint8", "float32")


def _default_input_type(model):
    """uint8 for an image (a 4-D input), else int8."""
    if isinstance(model, keras.Model):
        return "uint8" if len(model.inputs[0].shape) == 4 else "int8"
    signature = tf.saved_model.load(str(model)).signatures["serving_default"]
    specs = list(signature.structured_input_signature[1].values())
    return "uint8" if len(specs[0].shape) == 4 else "int8"


def to_tflite(model, path, flavour="float32", representative_data=None, metadata=None, tensor_types=None):
    """Converts `model` to a TFLite file with builtin operators only, and writes its sidecar.

    Args:
        model: a `keras.Model`, converted with a fixed batch of 1 (what a phone
            runs; static shapes keep every op delegable), or the folder of a
            SavedModel from `to_saved_model`, converted as it is.
        path: the `.tflite` file to write; the sidecar is the same name with `.json`.
        flavour: `"float32"`, `"float16"` (float16 weights), `"dynamic"`
            (int8 weights, float activations) or `"int8"` (full integer: int8
            weights and activations; its float input and output of the types
            `tensor_types` gives).
        representative_data: for `"int8"`: a list of a few hundred raw
            training inputs, one example each without batch dimension (a tuple
            per example for several inputs, in the file's input order, or a dict by
            input name). They go through the model's own preprocessing, exactly as in training.
        metadata: dict merged into the sidecar (task, labels, ...): the input side and head describe the file's
            tensors from it; its `int8_float_operators` (the side's): operator types int8 files keep float32.
        tensor_types: for `"int8"`: `(input, output)` types of a float input and output, each
            `"uint8"`, `"int8"` or `"float32"`; integer inputs stay as they are. Default: uint8 for
            an image input (4-D: what MediaPipe Tasks and a camera give), else int8; float32 out.

    Returns:
        The sidecar dict: inputs/outputs with shape, dtype and quantization
        (`real = scale * (quantized - zero_point)`), operators, versions.

    Raises:
        ZooError: bad `flavour`, int8 without data, or operators that are not builtin.
    """
    if flavour not in FLAVOURS:
        raise ZooError(f"Unknown flavour={flavour!r}: use one of {', '.join(FLAVOURS)}.")
    if tensor_types is None:
        tensor_types = (_default_input_type(model), "float32")
    if any(kind not in INT8_TENSOR_TYPES for kind in tensor_types):
        raise ZooError(f"tensor_types takes two of {', '.join(INT8_TENSOR_TYPES)}. Received: {tensor_types!r}")
    if flavour == "int8" and not representative_data:
        raise ZooError(
            "flavour='int8' needs representative_data: a few hundred raw training "
            "inputs to calibrate the activation ranges."
        )
    path = pathlib.Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        saved_model = model
        if isinstance(model, keras.Model):
            saved_model = to_saved_model(model, pathlib.Path(tmp) / "saved_model", batch_size=1)
        tflite_model = _convert(saved_model, flavour, representative_data, path.name, tuple(tensor_types), metadata)
    description = {
        "file": path.name,
        "flavour": flavour,
        **(metadata or {}),
        **sidecar.describe_tflite(tflite_model),
        "operators": operators.check_builtin_operators(tflite_model, path.name),
        "versions": library_versions(),
    }
    tflite_model = with_metadata(tflite_model, description)
    # Both files are complete before either is renamed into place.
    with atomic_path(sidecar.path_for(path)) as sidecar_tmp, atomic_path(path) as model_tmp:
        sidecar_tmp.write_text(json.dumps(description, indent=2) + "\n")
        model_tmp.write_bytes(tflite_model)
    return description
