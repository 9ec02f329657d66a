"""Delegate readiness of a TFLite file: can the LiteRT GPU delegate run all of it, and into how many
partitions does the CPU's XNNPACK delegate split it (each boundary costs a copy)."""

import contextlib
import io
import pathlib
import tempfile

from ai_edge_litert.interpreter import Interpreter

from zoo.quiet import native_output_to


@contextlib.contextmanager
def _captured_stdout(lines):
    """Collects what Python and native code print on standard output into `lines`."""
    text = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder, "stdout")
        try:
            with native_output_to(1, path), contextlib.redirect_stdout(text):
                yield
        finally:
            lines += path.read_text(errors="replace").splitlines() + text.getvalue().splitlines()


def gpu_compatibility(tflite_model):
    """`(compatible, warnings)` from `tf.lite.experimental.Analyzer`'s GPU delegate check."""
    import tensorflow as tf

    lines = []
    with _captured_stdout(lines):
        tf.lite.experimental.Analyzer.analyze(model_content=tflite_model, gpu_compatibility=True)
    warnings = sorted({line.strip() for line in lines if "GPU COMPATIBILITY WARNING" in line})
    compatible = any("looks compatible with GPU delegate" in line for line in lines) and not warnings
    return compatible, warnings


def xnnpack_partitions(tflite_model):
    """How many delegate nodes XNNPACK makes of the graph (1 is best: the whole graph in one piece)."""
    interpreter = Interpreter(model_content=tflite_model, num_threads=1)
    interpreter.allocate_tensors()
    return sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())


def readiness(tflite_model):
    """The report's `delegates` entry of one file."""
    compatible, warnings = gpu_compatibility(tflite_model)
    return dict(
        gpu_compatible=compatible, gpu_warnings=warnings[:10], xnnpack_partitions=xnnpack_partitions(tflite_model)
    )
