"""The export issue's targets, measured on finished runs, against a plain converter in the same run.

For each run: times `python -m export --model_dir=DIR` (every format, the report and its
gate); converts the same `model.keras` with Keras's own `model.export(format="litert")`
(float32) and a plain `TFLiteConverter.from_saved_model` full-int8 conversion (float input and
output, the converter's defaults, the same 300 calibration inputs); and times zoo's and the
plain files alike (batch 1, 1 thread: the four files in alternating rounds of `export.timing`, the ratio the
median of per-round ratios):

    python -m zoo_apps.image_classify --model=cnn --model_dir=/tmp/export_cnn
    python scripts/benchmark_export.py --model_dirs=/tmp/export_cnn
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import flags

from export import convert, timing
from zoo import get_task
from zoo.cli import run_main
from zoo.run_folder import RunFolder, load_keras_file

flags.DEFINE_list("model_dirs", None, "Finished training runs to export.", required=True)
flags.DEFINE_integer("rounds", 7, "Alternating timing rounds.", lower_bound=1)
FLAGS = flags.FLAGS


def plain_files(model, calibration, folder):
    """float32 from Keras's own LiteRT export, int8 from a plain converter; returns their paths."""
    float32 = folder / "plain_float32.tflite"
    model.export(str(float32), format="litert", verbose=False)
    saved_model = convert.to_saved_model(model, folder / "saved_model", batch_size=1)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([np.asarray(x)[None]] for x in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    int8 = folder / "plain_int8.tflite"
    int8.write_bytes(converter.convert())
    return {"float32": float32, "int8": int8}


def timing_input(path, example):
    """A batch of one for a file whose input may be float or int8 (quantized like Predictor)."""
    from ai_edge_litert.interpreter import Interpreter

    from export.predictor import quantize

    return quantize(example[None], Interpreter(model_path=str(path)).get_input_details()[0])


def measure(model_dir):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "export", f"--model_dir={model_dir}", "--accept_failed"], check=True)
    seconds = time.perf_counter() - start
    folder = RunFolder(model_dir)
    report = folder.report()
    model = load_keras_file(folder.model_path)
    data = get_task(report["task"]).export_data(folder.config(), model)
    example = np.asarray(data.inputs[-1], np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        plain = plain_files(model, data.calibration, pathlib.Path(tmp))
        files = {f"plain {flavour}": path for flavour, path in plain.items()}
        files.update({f"zoo {flavour}": folder.export_dir / f"model_{flavour}.tflite" for flavour in plain})
        latency = timing.alternating_latency_ms(
            {name: (path, timing_input(path, example)) for name, path in files.items()}, rounds=FLAGS.rounds
        )
        ratios = {flavour: timing.ratio(latency[f"zoo {flavour}"], latency[f"plain {flavour}"]) for flavour in plain}
    return report, seconds, ratios


def main(argv):
    print(
        "| run | export s (< 60) | int8 agreement, inputs (>= 0.995) | int8 - Keras accuracy | "
        "zoo / plain float32 latency (<= 1.05) | zoo / plain int8 latency (<= 1.05) | recommended |"
    )
    print("|---|---|---|---|---|---|---|")
    for model_dir in FLAGS.model_dirs:
        report, seconds, ratios = measure(model_dir)
        int8 = next(row for row in report["files"] if row["file"] == "model_int8.tflite")
        low, high = int8["accuracy_drop_interval"]
        print(
            f"| {report['model']} ({report['dataset']}) | {seconds:.1f} | {int8['top1_agreement']:.4f}, "
            f"{int8['agreement_examples']:,} | {-100 * int8['accuracy_drop']:+.2f} points (95% {-100 * high:+.2f} "
            f"to {-100 * low:+.2f}) | {ratios['float32']:.3f} | {ratios['int8']:.3f} | "
            f"{report['recommended']['file']} |"
        )
    print(json.dumps(dict(rounds=FLAGS.rounds)))


if __name__ == "__main__":
    run_main(main)
