"""MediaPipe's `ObjectDetector` (the C++ Android, iOS and web apps run) against `export.Predictor` on exported
detection files: the share of test images where both give the same detections (score >= 0.3; labels, scores
within 1e-4, boxes within MediaPipe's whole-pixel truncation: `export.mediapipe_tasks.same_detections`), from
the file and its metadata alone.

    python -m zoo_apps.detect --model_dir=runs/centernet_mnist_scenes --export=float32,float16,int8
    python scripts/mediapipe_detect_agreement.py --model_dirs=runs/centernet_mnist_scenes
"""

import json

from absl import app, flags

import export
from export import mediapipe_tasks
from zoo.run_folder import RunFolder
from zoo.tasks import get_task
from zoo.tasks.detection import split_images

flags.DEFINE_list("model_dirs", None, "Detection runs exported with --export (their export/*.tflite files).")
FLAGS = flags.FLAGS


def check(path, images):
    expected = export.Predictor(path).predict(images)
    answers = mediapipe_tasks.top1(path, images)
    same = [mediapipe_tasks.same_detections(a, b) for a, b in zip(expected, answers)]
    return dict(
        file=str(path),
        images=len(images),
        same_images=sum(same),
        predictor_detections=sum(map(len, expected)),
        mediapipe_detections=sum(map(len, answers)),
        first_difference=next(([a, b] for a, b, s in zip(expected, answers, same) if not s), None),
    )


def main(argv):
    del argv
    for model_dir in FLAGS.model_dirs:
        folder = RunFolder(model_dir)
        run = folder.config()["run"]
        splits = get_task(run["task"]).load_data(run["dataset"], run["seed"], **run["options"])
        images = split_images(splits.test)
        for path in sorted(folder.export_dir.glob("model_*.tflite")):
            print(json.dumps(check(path, images)), flush=True)


if __name__ == "__main__":
    flags.mark_flag_as_required("model_dirs")
    app.run(main)
