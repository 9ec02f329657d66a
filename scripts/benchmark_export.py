"""The export issue's targets, measured on finished training runs.

Runs `python -m export --model_dir=DIR` (all formats and flavours, with the
report) for each run, timing the whole command, then prints one Markdown
table row per run against the targets:

    python -m zoo_apps.image_classify --model=cnn --epochs=10 --model_dir=/tmp/export_cnn
    python scripts/benchmark_export.py --model_dirs=/tmp/export_cnn
"""

import json
import pathlib
import subprocess
import sys
import time

from absl import app, flags

flags.DEFINE_list("model_dirs", None, "Finished training runs to export.", required=True)
FLAGS = flags.FLAGS

# name -> (summary key or "export_seconds", test, target as text)
TARGETS = {
    "int8 size / float32": ("int8_size_vs_float32", lambda v: v <= 0.27, "<= 0.27"),
    "int8 - Keras accuracy (points)": ("int8_accuracy_minus_keras_points", lambda v: abs(v) <= 0.3, "within 0.3"),
    "int8 latency / float32": ("int8_latency_vs_float32", lambda v: v <= 0.6, "<= 0.6"),
    "Keras latency / float32 TFLite": ("keras_latency_vs_float32_tflite", lambda v: v >= 10, ">= 10"),
    "export wall time (s)": ("export_seconds", lambda v: v < 60, "< 60"),
}


def measure(model_dir):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "export", f"--model_dir={model_dir}"], check=True)
    seconds = time.perf_counter() - start
    report = json.loads((pathlib.Path(model_dir) / "export/report.json").read_text())
    return dict(report["summary"], export_seconds=round(seconds, 1)), report


def main(argv):
    rows = []
    for model_dir in FLAGS.model_dirs:
        values, report = measure(model_dir)
        files = {row["file"]: row for row in report["files"]}
        cells = [f"{report['model']} ({report['dataset']})"]
        for key, passes, _ in TARGETS.values():
            cells.append(f"{values[key]:.3g} {'ok' if passes(values[key]) else 'MISSED'}")
        cells.append(
            f"{files['model.keras']['accuracy']:.4f} / {files['model_int8.tflite']['accuracy']:.4f}"
        )
        rows.append("| " + " | ".join(cells) + " |")
    header = ["run"] + [f"{name} ({target})" for name, (_, _, target) in TARGETS.items()]
    header.append("Keras / int8 accuracy")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    print("\n".join(rows))


if __name__ == "__main__":
    app.run(main)
