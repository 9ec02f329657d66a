"""`Predictor`: an exported TFLite file on raw inputs, answering as its task does (labels with scores, ...)."""

import pathlib

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from export import sidecar
from zoo.errors import ZooError
from zoo.tasks import get_task


def quantize(values, detail):
    """Casts raw `values` to a TFLite input's dtype, applying its quantization if any."""
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail["quantization"]
    if not scale:
        return np.asarray(values).astype(dtype)
    limits = np.iinfo(dtype)
    quantized = np.round(np.asarray(values, np.float32) / scale + zero_point)
    return np.clip(quantized, limits.min, limits.max).astype(dtype)


def dequantize(values, detail):
    """Returns a TFLite output as float32, undoing its quantization if any."""
    scale, zero_point = detail["quantization"]
    values = np.asarray(values, np.float32)
    return (values - zero_point) * scale if scale else values


def open_exported(model_path, num_threads=1):
    """`(path, sidecar dict, allocated LiteRT interpreter)` of an exported `.tflite` file; `ZooError` if it
    is missing, a folder, without its sidecar, or not a valid TFLite file."""
    path = pathlib.Path(model_path)
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "missing"
        raise ZooError(f"{path} is {kind}: pass an exported .tflite file (e.g. DIR/export/model_int8.tflite).")
    metadata = sidecar.read(path)
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    except ValueError as error:
        raise ZooError(
            f"{path} is not a valid TFLite file ({error}); it may be truncated or corrupt: export it again."
        ) from None
    interpreter.allocate_tensors()
    return path, metadata, interpreter


class Predictor:
    """Runs a TFLite file written by `export` on raw inputs: pixels 0-255 for
    images, strings for text models, rows for tables, noise for generators.

    What the file is for comes from its sidecar (`model_int8.json` beside
    `model_int8.tflite`): the task, whose input side checks and encodes inputs (an
    image side turns a grayscale image into the RGB the file takes; a text side
    tokenizes exactly as the Keras model does, with the sidecar's rules and
    vocabulary) and whose head decodes outputs (labels with scores, values, ...).
    Quantization scales come from the file itself.

        predictor = export.Predictor("runs/cnn_mnist_5k/export/model_int8.tflite")
        predictor.predict(images, top_k=3)  # [[("7", 0.98), ("1", 0.01), ...], ...]
        export.Predictor("runs/textcnn_mr/export/model_int8.tflite").predict(["A gem!"])

    Args:
        model_path: a `.tflite` file with its `.json` sidecar.
        num_threads: CPU threads for the LiteRT interpreter.
    """

    def __init__(self, model_path, num_threads=1):
        self.path, self.metadata, self._interpreter = open_exported(model_path, num_threads)
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        self._inputs, self._input, self._output = inputs, inputs[0], outputs[0]
        # Several outputs (a detector's boxes, classes, scores, count): by their signature names.
        self._named_outputs = (
            self._interpreter.get_signature_runner().get_output_details() if len(outputs) > 1 else None
        )
        self.file_input_shape = tuple(int(size) for size in self._input["shape"][1:])
        # What the Keras model takes (the input side may adapt it to the file, e.g. gray -> RGB).
        self.input_shape = tuple(self.metadata.get("input_shape") or self.file_input_shape)
        self.labels = self.metadata.get("labels")
        self.task = get_task(self.metadata.get("task", "image_classification"))

    def model_inputs(self, inputs, **options):
        """Returns what the TFLite file is fed for raw `inputs`, batched and cast (and quantized) to the
        file's input type (a list, in the file's input order, for several inputs); `options` go to the
        task's input check."""
        values = self.task.predictor_inputs(self, inputs, **options)
        if not isinstance(values, dict):
            return quantize(values, self._input)
        # Several inputs: the task names them; the file's tensor names hold those names.
        return [quantize(values[self._input_key(detail, values)], detail) for detail in self._inputs]

    def _input_key(self, detail, values):
        matches = [key for key in values if key in detail["name"]]
        if len(matches) != 1:
            raise ZooError(f"{self.path.name} takes {detail['name']}; the inputs given are {sorted(values)}.")
        return matches[0]

    def outputs(self, inputs, **options):
        """Returns the float32 outputs `(batch, ...)` (logits for classifiers) for one raw input or a batch; for
        a file with several outputs, a dict of them by name.

        Examples run one at a time, as on a phone (the files have a batch of 1).
        """
        values = self.model_inputs(inputs, **options)
        values = values if isinstance(values, list) else [values]
        results = []
        for index in range(len(values[0])):
            for detail, value in zip(self._inputs, values):
                self._interpreter.set_tensor(detail["index"], value[index][None])
            self._interpreter.invoke()
            if self._named_outputs:
                results.append(
                    {name: self._interpreter.get_tensor(d["index"])[0] for name, d in self._named_outputs.items()}
                )
            else:
                results.append(self._interpreter.get_tensor(self._output["index"])[0])
        if self._named_outputs:  # a dict of float32 arrays, one per output
            return {
                name: dequantize(np.stack([r[name] for r in results]), d) for name, d in self._named_outputs.items()
            }
        return dequantize(np.stack(results), self._output)

    def predict(self, inputs, top_k=None, **options):
        """Returns the task's answers for one raw input or a batch: for classifiers, per example,
        `(label, probability)` pairs, most likely first (`top_k` of them; None for all).

        `options` go to the task's input check (e.g. `allow_unit_range=True` for images
        whose 0-255 pixels really all lie within 0-1).
        """
        return self.task.decode(self, self.outputs(inputs, **options), top_k=top_k)
