"""`Predictor`: an exported TFLite classifier on raw inputs, returning labels with scores."""

import pathlib

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from export import sidecar
from zoo.errors import ZooError
from zoo.text import tokenizer_from_config

TEXT_TASK = "text_classification"


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


def _describe(values):
    if isinstance(values, np.ndarray):
        return f"{values.dtype} array of shape {values.shape}"
    return repr(values)[:80]


def softmax(logits):
    exponentials = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


class Predictor:
    """Runs a TFLite file written by `export` on raw inputs: pixels 0-255 for
    images, strings for text models.

    Labels, the input's value range and a text model's tokenizer (rules and
    vocabulary) come from the sidecar (`model_int8.json` beside
    `model_int8.tflite`); quantization scales come from the file itself. Texts
    are tokenized in Python exactly as the Keras model does
    (`zoo.text.tokenizer_from_config`), then the file runs on their token ids.

        predictor = export.Predictor("runs/cnn_mnist_5k/export/model_int8.tflite")
        predictor.predict(images, top_k=3)  # [[("7", 0.98), ("1", 0.01), ...], ...]
        export.Predictor("runs/textcnn_lines_reviews/export/model_int8.tflite").predict(["A gem!"])

    Args:
        model_path: a `.tflite` file with its `.json` sidecar.
        num_threads: CPU threads for the LiteRT interpreter.
    """

    def __init__(self, model_path, num_threads=1):
        self.path = pathlib.Path(model_path)
        if not self.path.is_file():
            raise ZooError(f"{self.path} does not exist: pass an exported .tflite file.")
        self.metadata = sidecar.read(self.path)
        try:
            self._interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
        except ValueError as error:
            raise ZooError(
                f"{self.path} is not a valid TFLite file ({error}); it may be truncated "
                "or corrupt: export it again."
            ) from None
        self._interpreter.allocate_tensors()
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ZooError(
                f"{self.path} has {len(inputs)} inputs and {len(outputs)} outputs; "
                "Predictor runs single-input classifiers."
            )
        self._input, self._output = inputs[0], outputs[0]
        self.input_shape = tuple(int(size) for size in self._input["shape"][1:])
        self.labels = self.metadata.get("labels") or [
            str(index) for index in range(self._output["shape"][-1])
        ]
        self.task = self.metadata.get("task")
        self.tokenizer = None
        if self.task == TEXT_TASK:
            self.tokenizer = tokenizer_from_config(self.metadata["tokenizer"])
            if self.input_shape != (self.tokenizer.sequence_length,):
                raise ZooError(
                    f"{self.path.name} takes token ids of shape {self.input_shape} but its sidecar's "
                    f"tokenizer gives {self.tokenizer.sequence_length} per text: export it again."
                )

    def _token_ids(self, texts):
        batch = [texts] if isinstance(texts, (str, bytes)) else texts
        listed = isinstance(batch, (list, tuple)) or (isinstance(batch, np.ndarray) and batch.ndim == 1)
        if not (listed and len(batch) and all(isinstance(text, (str, bytes)) for text in batch)):
            raise ZooError(
                f"{self.path.name} classifies text: pass a string or a list of strings. "
                f"Received: {_describe(texts)}"
            )
        return self.tokenizer(batch)

    def _checked(self, inputs):
        inputs = np.asarray(inputs)
        if inputs.dtype.kind in "USO":
            raise ZooError(
                f"{self.path.name} classifies images: pass raw pixels of shape {self.input_shape} "
                f"or a batch of them, not text. Received: {_describe(inputs)}"
            )
        if inputs.shape == self.input_shape:
            inputs = inputs[None]
        if inputs.shape[1:] != self.input_shape or len(inputs) == 0:
            raise ZooError(
                f"{self.path.name} takes inputs of shape {self.input_shape} or a batch "
                f"of them. Received: shape {inputs.shape}"
            )
        value_range = self.metadata.get("input_value_range")
        if value_range and (inputs.min() < value_range[0] or inputs.max() > value_range[1]):
            raise ZooError(
                f"{self.path.name} takes raw values in {value_range} (rescaling is inside "
                f"the model). Received: values from {inputs.min()} to {inputs.max()}"
            )
        return inputs

    def model_inputs(self, inputs):
        """Returns what the TFLite file is fed for raw `inputs`, batched: token ids
        of texts, or pixels, cast (and quantized) to the file's input type."""
        values = self._token_ids(inputs) if self.tokenizer else self._checked(inputs)
        return quantize(values, self._input)

    def logits(self, inputs):
        """Returns float32 logits `(batch, num_labels)` for one raw input or a batch
        (a string or a list of strings for text models).

        Examples run one at a time, as on a phone (the files have a batch of 1).
        """
        outputs = []
        for example in self.model_inputs(inputs):
            self._interpreter.set_tensor(self._input["index"], example[None])
            self._interpreter.invoke()
            outputs.append(self._interpreter.get_tensor(self._output["index"])[0])
        return dequantize(np.stack(outputs), self._output)

    def predict(self, inputs, top_k=None):
        """Returns, for each example, `(label, probability)` pairs, most likely first.

        Args:
            inputs: one raw input or a batch of them (a string or a list of strings
                for text models).
            top_k: how many labels to return per example; None for all.
        """
        probabilities = softmax(self.logits(inputs))
        order = np.argsort(-probabilities, axis=-1)[:, :top_k]
        return [
            [(self.labels[index], float(row[index])) for index in indices]
            for row, indices in zip(probabilities, order)
        ]
