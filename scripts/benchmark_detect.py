"""Detection targets (issue 23): the default command's mAP@0.5 on mnist_scenes test, its wall time, and the int8
file's mAP@0.5 against Keras's.

    python scripts/benchmark_detect.py                 # seed 0: trains runs/benchmark_detect/centernet

1. Times `python -m zoo_apps.detect --seed=0` (the default command, a fresh process, all epochs) end to end.
2. Exports float32 and int8 (`export.export_run`): each file's mAP@0.5 and mAP@[.5:.95] on the test scenes
   (pycocotools), matched detections with Keras's (IoU >= 0.9, same class), and the mAP@0.5 drop from Keras's
   with a paired 95% bootstrap interval over images.
Reference in the same process: a detector that knows where the ink is but not the digit (one box around each
connected blob of pixels >= 128, labelled with the most common training class, score 1).
Results go to --output_dir/results.json.
"""

import json
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
from absl import flags

import export
from zoo.cli import run_main
from zoo.detection import coco
from zoo.files import write_json
from zoo.tasks import get_task

flags.DEFINE_string("model", "centernet", "Registered detection model.")
flags.DEFINE_integer("seed", 0, "The run's seed.")
flags.DEFINE_string("output_dir", "runs/benchmark_detect", "Where the run and results.json go.")
flags.DEFINE_boolean("fresh", True, "Delete an earlier run of the same model first (else it is resumed/reused).")
FLAGS = flags.FLAGS
TARGETS = dict(map50=0.90, wall_minutes=15.0, int8_drop_points=1.0)


def timed_default_command(model_dir):
    command = [sys.executable, "-m", "zoo_apps.detect", f"--model={FLAGS.model}", f"--seed={FLAGS.seed}"]
    command.append(f"--model_dir={model_dir}")
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start, " ".join(["python", *command[1:]])


def blob_reference(splits):
    """mAP of one box per connected ink blob, labelled with the most common training class."""
    from scipy import ndimage

    common = int(np.bincount(np.concatenate(splits.extras["classes"]["train"])).argmax())
    found = []
    for image, _ in splits.test.as_numpy_iterator():
        labels, _ = ndimage.label(image[..., 0] >= 128)
        boxes = [[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in ndimage.find_objects(labels)]
        found.append((np.array(boxes).reshape(-1, 4), np.ones(len(boxes)), np.full(len(boxes), common)))
    truth = splits.extras["boxes"]["test"], splits.extras["classes"]["test"]
    return coco.detection_metrics(*truth, found, splits.class_names)


def main(argv):
    model_dir = pathlib.Path(FLAGS.output_dir) / FLAGS.model
    if FLAGS.fresh and model_dir.exists():
        shutil.rmtree(model_dir)
    seconds, command = timed_default_command(model_dir)
    report = export.export_run(model_dir, formats=("float32", "int8"))
    rows = {row["file"]: row for row in report["files"]}
    keras, int8 = rows["model.keras"], rows.get("model_int8.tflite", {})
    splits = get_task("object_detection").load_data("mnist_scenes", seed=FLAGS.seed)
    reference = blob_reference(splits)
    run = json.loads((model_dir / "metrics.json").read_text())["test"]  # the app's evaluation: no NMS for centre maps
    results = dict(
        command=command,
        wall_minutes=seconds / 60,
        test_images=report["test_examples"],
        run=dict(map50=run["map50"], map50_interval=run["map50_interval"], map=run["map"]),
        keras=dict(map50=keras["map50"], map=keras["map"]),
        files={
            name: {k: row.get(k) for k in ("map50", "map", "map50_drop", "map50_drop_interval", "matched", "gate")}
            for name, row in rows.items()
            if row["format"] == "tflite"
        },
        reference_ink_blobs=dict(map50=reference["map50"], map=reference["map"]),
        targets=TARGETS,
        met=dict(
            map50=run["map50"] >= TARGETS["map50"],
            map50_through_file_postprocessing=keras["map50"] >= TARGETS["map50"],
            wall_minutes=seconds / 60 < TARGETS["wall_minutes"],
            int8_drop=bool(int8) and 100 * int8["map50_drop"] <= TARGETS["int8_drop_points"],
        ),
    )
    write_json(pathlib.Path(FLAGS.output_dir) / "results.json", results)
    print(f"{command}: {seconds / 60:.1f} min on this machine")
    low, high = run["map50_interval"]
    print(f"run (the app's evaluation): mAP@0.5 {run['map50']:.4f} (95% {low:.4f}-{high:.4f}), mAP {run['map']:.4f}")
    print(
        f"Keras through the file's post-processing: mAP@0.5 {keras['map50']:.4f}, mAP@[.5:.95] {keras['map']:.4f} "
        f"({report['test_examples']} images)"
    )
    print(f"reference (ink blobs, one class): mAP@0.5 {reference['map50']:.4f}")
    for name, row in results["files"].items():
        low, high = row["map50_drop_interval"]
        print(
            f"{name}: mAP@0.5 {row['map50']:.4f}, drop {100 * row['map50_drop']:.2f} points (95% {100 * low:.2f} "
            f"to {100 * high:.2f}), matched {100 * row['matched']:.1f}%"
        )
    print(f"targets met: {results['met']}")


if __name__ == "__main__":
    run_main(main)
