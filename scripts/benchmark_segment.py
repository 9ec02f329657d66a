"""Segmentation targets (issue 24): the default command's mean IoU on mnist_scenes test, its wall time, the int8 file's
mean IoU against Keras's, and MediaPipe's ImageSegmenter against zoo's Predictor.

    python scripts/benchmark_segment.py                       # seed 0: trains runs/benchmark_segment/unet
    python scripts/benchmark_segment.py --model=deeplab_v3

1. Times `python -m zoo_apps.segment --seed=0` (the default command, a fresh process, all epochs) end to end.
2. Exports float32 and int8 (`export.export_run`): mean IoU of each file on the test images with a 95% bootstrap
   interval over images, the int8 file's mean-IoU drop from Keras's with a paired interval, pixel agreement.
3. Opens each file in MediaPipe's `vision.ImageSegmenter` (file and metadata only) and counts the test pixels whose
   category mask matches `export.Predictor`'s.
Reference numbers in the same process: predicting background everywhere, and a threshold that knows the ink
(pixels >= 128) but not the digit (every ink pixel the most common digit class of the training masks).
Results go to --output_dir/results.json.
"""

import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
from absl import flags

import export
from export import mediapipe_tasks
from zoo.cli import run_main
from zoo.files import write_json
from zoo.run_folder import RunFolder
from zoo.tasks import get_task
from zoo.tasks.arrays import split_arrays
from zoo.tasks.segmentation_metrics import segmentation_metrics

flags.DEFINE_string("model", "unet", "Registered segmentation model.")
flags.DEFINE_integer("seed", 0, "The run's seed.")
flags.DEFINE_string("output_dir", "runs/benchmark_segment", "Where the run and results.json go.")
flags.DEFINE_boolean("fresh", True, "Delete an earlier run of the same model first (else it is resumed/reused).")
FLAGS = flags.FLAGS
TARGETS = dict(mean_iou=0.80, wall_minutes=15.0, int8_drop_points=1.0, mediapipe_agreement=0.995)


def timed_default_command(model_dir):
    command = [sys.executable, "-m", "zoo_apps.segment", f"--model={FLAGS.model}", f"--seed={FLAGS.seed}"]
    command.append(f"--model_dir={model_dir}")
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start, " ".join(["python", *command[1:]])


def references(splits, test_masks):
    """Mean IoU of two trivial segmenters on the test split."""
    _, train_masks = split_arrays(splits.train)
    common = int(np.argmax(np.bincount(train_masks.ravel(), minlength=splits.num_classes)[1:])) + 1
    test_images, _ = split_arrays(splits.test)
    threshold = np.where(test_images[..., 0] >= 128, common, 0)
    return dict(
        all_background=segmentation_metrics(np.zeros_like(test_masks), test_masks, splits.class_names)["mean_iou"],
        ink_threshold_one_class=segmentation_metrics(threshold, test_masks, splits.class_names)["mean_iou"],
    )


def mediapipe_rows(folder, images):
    rows = []
    for path in sorted(folder.export_dir.glob("model_*.tflite")):
        expected = np.stack(export.Predictor(path).predict(images))
        try:
            masks = np.stack(mediapipe_tasks.top1(path, images))
        except Exception as error:  # what MediaPipe says is the result
            rows.append(dict(file=path.name, opened=False, error=str(error).splitlines()[0][:200]))
            continue
        rows.append(dict(file=path.name, opened=True, pixel_agreement=float(np.mean(masks == expected))))
    return rows


def main(argv):
    model_dir = pathlib.Path(FLAGS.output_dir) / FLAGS.model
    if FLAGS.fresh and model_dir.exists():
        shutil.rmtree(model_dir)
    seconds, command = timed_default_command(model_dir)
    folder = RunFolder(model_dir)
    metrics = folder.metrics()
    report = export.export_run(model_dir, ("float32", "int8"))
    rows = {row["file"]: row for row in report["files"]}
    config = folder.config()
    splits = get_task("image_segmentation").load_data(config["run"]["dataset"], config["run"]["seed"])
    test_images, test_masks = split_arrays(splits.test)
    results = dict(
        command=command,
        wall_seconds=round(seconds, 1),
        test=metrics["test"],
        files={
            name: {
                key: row.get(key)
                for key in (
                    "mean_iou",
                    "mean_iou_interval",
                    "mean_iou_drop",
                    "mean_iou_drop_interval",
                    "pixel_agreement",
                    "size_bytes",
                )
            }
            for name, row in rows.items()
        },
        mediapipe=mediapipe_rows(folder, test_images),
        references=references(splits, test_masks),
        targets=TARGETS,
    )
    write_json(pathlib.Path(FLAGS.output_dir) / "results.json", results)
    _print(results)


def _print(results):
    test, int8 = results["test"], results["files"]["model_int8.tflite"]
    low, high = test["mean_iou_interval"]
    print(f"\n{results['command']}")
    print(f"wall time {results['wall_seconds'] / 60:.1f} min (target < {TARGETS['wall_minutes']:.0f} min)")
    print(
        f"test mean IoU {test['mean_iou']:.4f} (95% interval {low:.4f}-{high:.4f}, {test['num_examples']} images, "
        f"{test['num_pixels']:,} pixels; target >= {TARGETS['mean_iou']})"
    )
    print(f"pixel accuracy {test['pixel_accuracy']:.4f}")
    for name, value in results["references"].items():
        print(f"reference {name}: mean IoU {value:.4f}")
    drop_low, drop_high = int8["mean_iou_drop_interval"]
    print(
        f"int8 mean IoU {int8['mean_iou']:.4f}: {100 * int8['mean_iou_drop']:.2f} points below Keras (95% interval "
        f"{100 * drop_low:.2f} to {100 * drop_high:.2f}; target within {TARGETS['int8_drop_points']:.0f}); "
        f"pixel agreement with Keras {int8['pixel_agreement']:.4f}"
    )
    for row in results["mediapipe"]:
        said = f"pixel agreement with Predictor {row['pixel_agreement']:.4f}" if row["opened"] else row["error"]
        print(f"MediaPipe ImageSegmenter, {row['file']}: {'opens' if row['opened'] else 'FAILS'}; {said}")


if __name__ == "__main__":
    run_main(main)
