"""The verification report: every exported file against the Keras model, on the test split.

For each file: accuracy, top-1 agreement with Keras, max absolute logit
difference, size, and batch-1 latency (the median of round medians, their spread
and p90; TFLite through the LiteRT interpreter on one CPU thread, the files of one
export timed together in alternating rounds by `export.timing`; Keras by calling
the model).
"""

import pathlib

import numpy as np
import tensorflow as tf

from export import delegates, timing
from export.operators import operator_names
from export.predictor import Predictor

# (timed runs, warm-up runs per round), the runs split into up to `timing.ROUNDS` rounds: a TFLite
# call of a small model takes microseconds, so its median needs many runs; a Keras call takes milliseconds.
TFLITE_TIMING = (timing.ROUNDS * timing.INVOKES, timing.WARMUP)
KERAS_TIMING = (50, 5)
BATCH_SIZE = 256


def size_bytes(path):
    """Size of a file, or of all files in a folder."""
    path = pathlib.Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def rounds_of(runs_and_warmup):
    """`(rounds, invokes per round, warmup per round)` of a `(runs, warmup)` timing."""
    runs, warmup = runs_and_warmup
    rounds = max(1, min(timing.ROUNDS, runs))
    return rounds, max(1, runs // rounds), warmup


def latency_ms(call, runs_and_warmup):
    """Latency of `call()` in milliseconds: median of round medians, `spread` of the round medians and
    p90; `runs_and_warmup` is `(runs, warmup)`, the runs split into rounds (`rounds_of`)."""
    return timing.alternating_rounds(dict(call=call), *rounds_of(runs_and_warmup))["call"]


def count(inputs):
    """How many examples `inputs` hold: an array, or a list of arrays (one per input of a multi-input model)."""
    return len(inputs[0]) if isinstance(inputs, list) else len(inputs)


def take(inputs, start, stop):
    """Examples `start:stop` of an array, or of each array of a list (a multi-input model's inputs)."""
    return [part[start:stop] for part in inputs] if isinstance(inputs, list) else inputs[start:stop]


def keras_outputs(model, inputs):
    """The model's outputs on `inputs`, in batches."""
    return np.concatenate(
        [
            np.asarray(model(take(inputs, start, start + BATCH_SIZE), training=False))
            for start in range(0, count(inputs), BATCH_SIZE)
        ]
    )


def saved_model_outputs(path, inputs):
    """Outputs of a SavedModel's `serving_default` signature (of its `serve` endpoint, which takes
    a multi-input model's inputs in order)."""
    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    (output_name,) = signature.structured_outputs
    if isinstance(inputs, list):
        call = lambda batch: loaded.serve(*batch)
    else:
        (input_name,) = signature.structured_input_signature[1]
        call = lambda batch: signature(**{input_name: tf.constant(batch)})
    return np.concatenate(
        [
            call(take(inputs, start, start + BATCH_SIZE))[output_name].numpy()
            for start in range(0, count(inputs), BATCH_SIZE)
        ]
    )


def tflite_latency_ms(path, model_input):
    """Batch-1 latency of `invoke()` with the LiteRT interpreter on one thread (`tflite_files_latency_ms`).

    Args:
        path: a `.tflite` file.
        model_input: a batch of one as the file takes it (`Predictor.model_inputs`), or a list of
            them in the file's input order (`Generator.model_inputs`).
    """
    return tflite_files_latency_ms({pathlib.Path(path).name: (path, model_input)})[pathlib.Path(path).name]


def tflite_files_latency_ms(files, runs_and_warmup=None):
    """Batch-1 latency of several TFLite files `{name: (path, model_input)}` timed together in
    alternating rounds (`export.timing`), with `runs_and_warmup` (default `TFLITE_TIMING`); `{name: latency dict}`."""
    return timing.alternating_latency_ms(files, *rounds_of(runs_and_warmup or TFLITE_TIMING))


def latency_input(path, inputs, examples=1):
    """What a TFLite file is timed on: the last `examples` of the raw `inputs`, as the file takes them (a batch
    of one, or of several that the timing cycles through, `timing.interpreter_call`)."""
    return Predictor(path).model_inputs(take(inputs, -examples, None))


def keras_latency_ms(model, batch):
    """Batch-1 latency of calling the Keras model on `batch`: one raw input, batched, or several that the calls
    take in turn (as `timing.interpreter_call` cycles through a file's)."""
    rows = [take(batch, index, index + 1) for index in range(count(batch))]
    return latency_ms(timing.in_turn(lambda row: model(row, training=False), rows), KERAS_TIMING)


def verify_tflite(task, path, inputs, labels, reference, latency=True):
    """One TFLite file's row of the report; `inputs` are raw (pixels, texts, rows, noise) and go through
    `Predictor`, whose task's input side encodes them as a phone does (e.g. tokenizes texts)."""
    predictor = Predictor(path)
    row = dict(file=pathlib.Path(path).name, format="tflite", size_bytes=size_bytes(path))
    row.update(task.compare(predictor.outputs(inputs), reference, labels))
    if latency:  # export_run times all files of an export together instead (tflite_files_latency_ms)
        row["latency_ms"] = tflite_latency_ms(path, predictor.model_inputs(take(inputs, -1, None)))
    content = pathlib.Path(path).read_bytes()
    row["operators"] = operator_names(content)
    row["delegates"] = delegates.readiness(content)
    return row


def latency_ratio(latency_a, latency_b):
    """`a`'s latency over `b`'s: the median of per-round ratios when both were timed in the same rounds."""
    if "round_medians" in latency_a and len(latency_a["round_medians"]) == len(latency_b.get("round_medians", ())):
        return timing.ratio(latency_a, latency_b)
    return latency_a["median"] / latency_b["median"]


def summary(rows, quality):
    """Size and latency ratios of the files against float32 and Keras, and the quality change of int8.

    Args:
        rows: the report's rows.
        quality: the task's headline quality key in the rows (e.g. "accuracy").
    """
    by_file = {row["file"]: row for row in rows}
    keras, float32, int8 = (by_file.get(name) for name in ("model.keras", "model_float32.tflite", "model_int8.tflite"))
    ratios = {}
    if float32 and int8:
        ratios["int8_size_vs_float32"] = int8["size_bytes"] / float32["size_bytes"]
        ratios["int8_latency_vs_float32"] = latency_ratio(int8["latency_ms"], float32["latency_ms"])
    if keras and int8 and quality in int8:
        ratios[f"int8_{quality}_minus_keras"] = int8[quality] - keras[quality]
    if keras and float32:
        ratios["keras_latency_vs_float32_tflite"] = keras["latency_ms"]["median"] / float32["latency_ms"]["median"]
    return {name: round(value, 4) for name, value in ratios.items()}


def _cell(value, width):
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}.2e}" if abs(value) and (abs(value) < 1e-3 or abs(value) >= 1e4) else f"{value:>{width}.4f}"


def format_table(rows, columns):
    """The report's rows as a text table with the task's quality `columns`."""
    width = max(10, *(len(name) + 2 for name in columns))
    header = f"{'file':<22}{'size KB':>10}" + "".join(f"{name:>{width}}" for name in columns)
    header += f"{'median ms':>11}{'spread ms':>17}"
    lines = [header, "-" * len(header)]
    for row in rows:
        latency = row.get("latency_ms")
        cells = [f"{row['file']:<22}", f"{row['size_bytes'] / 1024:>10,.1f}"]
        cells += [_cell(row.get(name), width) for name in columns]
        cells.append(f"{latency['median']:>11.3f}{_spread(latency):>17}" if latency else f"{'-':>11}{'-':>17}")
        lines.append("".join(cells))
    return "\n".join(lines)


def _spread(latency):
    low, high = latency.get("spread", (latency["median"], latency["median"]))
    return f"{low:.3f}-{high:.3f}"
