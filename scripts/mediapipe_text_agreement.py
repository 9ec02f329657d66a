"""MediaPipe's `TextClassifier` (the C++ Android, iOS and web apps run) against `export.Predictor` on
exported text files: top-1 agreement and the largest score difference over every text of the run's
data (all splits), MediaPipe tokenizing from the file's metadata alone.

    python -m zoo_apps.text_classify --model=textcnn --model_dir=runs/textcnn_mr --export=float32,int8
    python scripts/mediapipe_text_agreement.py --model_dirs=runs/textcnn_mr
"""

import json
import pathlib

import numpy as np
from absl import app, flags

import export
import zoo
from zoo.tasks.classification import export_arrays

flags.DEFINE_list("model_dirs", None, "Text runs exported with --export (their export/*.tflite files are checked).")
flags.DEFINE_integer("limit", None, "Check only the first N texts.")
FLAGS = flags.FLAGS


def mediapipe_scores(path, texts, classes):
    from mediapipe.tasks.python import text as mp_text

    scores = np.full((len(texts), classes), np.nan, np.float32)
    with mp_text.TextClassifier.create_from_model_path(str(path)) as classifier:
        for row, text in enumerate(texts):
            for category in classifier.classify(text).classifications[0].categories:
                scores[row, category.index] = category.score
    return scores


def check(path, texts):
    predictor = export.Predictor(path)
    logits = predictor.outputs(texts)
    scores = mediapipe_scores(path, texts, logits.shape[1])
    return dict(
        file=str(path),
        texts=len(texts),
        top1_agreement=float((scores.argmax(1) == logits.argmax(1)).mean()),
        max_abs_score_diff=float(np.nanmax(np.abs(scores - logits))),
    )


def main(argv):
    del argv
    for model_dir in FLAGS.model_dirs:
        model_dir = pathlib.Path(model_dir)
        run = json.loads((model_dir / "config.json").read_text())["run"]
        splits = zoo.get_task("text_classification").load_data(run["dataset"], run["seed"])
        texts = [text.decode("utf-8") for text in export_arrays(splits)[0]][: FLAGS.limit]
        for path in sorted((model_dir / "export").glob("model_*.tflite")):
            print(json.dumps(check(path, texts)))


if __name__ == "__main__":
    flags.mark_flag_as_required("model_dirs")
    app.run(main)
