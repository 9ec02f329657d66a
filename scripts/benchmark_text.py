"""Every text model trained on a line-file dataset (default MR), against a bigram NB-LR reference.

Trains each model with `python -m zoo_apps.text_classify` (its registered recipe,
timed as a whole command), exports the textcnn run (int8 vs Keras accuracy), and
scores a naive-Bayes-weighted logistic regression on uni+bigrams (Wang & Manning
2012) on the same split, in the same run:

    python scripts/benchmark_text.py                      # the embedded MR sentences
    python scripts/benchmark_text.py --models=textcnn --seeds=0,1,2
"""

import json
import pathlib
import subprocess
import sys
import time

import numpy as np
from absl import app, flags

import zoo
from zoo.datasets import load_text_dataset

flags.DEFINE_string("dataset", "mr", "A text dataset (mr, lines:DIR, folder:DIR, tfds).")
flags.DEFINE_list("models", None, "Text models to train; default all.")
flags.DEFINE_list("seeds", ["0"], "Seeds: one run per model and seed.")
flags.DEFINE_string("runs_dir", "runs/benchmark_text", "Where the runs go.")
flags.DEFINE_boolean("export", True, "Export the textcnn runs and report int8 vs Keras accuracy.")
FLAGS = flags.FLAGS


def texts_and_labels(split):
    pairs = [(text.decode("utf-8"), label) for text, label in split.as_numpy_iterator()]
    texts, labels = zip(*pairs)
    return list(texts), np.array(labels)


def nb_logistic_regression(dataset, seed):
    """Validation and test accuracy of bigram NB-LR on the split the apps use."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    splits = load_text_dataset(dataset, seed=seed)
    (train, y_train), (val, y_val), (test, y_test) = (
        texts_and_labels(s) for s in (splits.train, splits.validation, splits.test)
    )
    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"\S+")
    x_train = vectorizer.fit_transform(train)
    # Log-count ratio of each feature between the classes (binary tasks).
    p, q = (1 + x_train[y_train == c].sum(axis=0) for c in (1, 0))
    ratio = np.asarray(np.log((p / p.sum()) / (q / q.sum()))).ravel()
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x_train.multiply(ratio).tocsr(), y_train)
    score = lambda texts, y: float(model.score(vectorizer.transform(texts).multiply(ratio).tocsr(), y))  # noqa: E731
    return dict(validation=score(val, y_val), test=score(test, y_test))


def train(model, seed):
    model_dir = pathlib.Path(FLAGS.runs_dir) / f"{model}_seed{seed}"
    command = [
        sys.executable,
        "-m",
        "zoo_apps.text_classify",
        f"--model={model}",
        f"--dataset={FLAGS.dataset}",
        f"--seed={seed}",
        f"--model_dir={model_dir}",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    metrics = json.loads((model_dir / "metrics.json").read_text())
    row = dict(
        model=model,
        seed=seed,
        validation=metrics["validation_accuracy"],
        test=metrics["test"]["accuracy"],
        params=metrics["num_parameters"],
        command_seconds=round(seconds, 1),
        training_seconds=metrics["training_seconds"],
    )
    if FLAGS.export and model == "textcnn":
        import export

        report = export.export_run(model_dir, formats=("float32", "int8"))
        int8 = next(r for r in report["files"] if r["file"] == "model_int8.tflite")
        row["int8_test"] = int8["accuracy"]
    return row


def main(argv):
    models = FLAGS.models or zoo.list_models(task="text_classification")
    seeds = [int(seed) for seed in FLAGS.seeds]
    rows = [train(model, seed) for model in models for seed in seeds]
    print("| model | seed | params | validation acc. | test acc. | int8 TFLite test acc. | command s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        int8 = f"{row['int8_test']:.4f}" if "int8_test" in row else "-"
        print(
            f"| `{row['model']}` | {row['seed']} | {row['params']:,} | {row['validation']:.4f} | "
            f"{row['test']:.4f} | {int8} | {row['command_seconds']} |"
        )
    for seed in seeds:
        reference = nb_logistic_regression(FLAGS.dataset, seed)
        print(
            f"| bigram NB-LR (reference, scikit-learn) | {seed} | - | {reference['validation']:.4f} | "
            f"{reference['test']:.4f} | - | - |"
        )


if __name__ == "__main__":
    app.run(main)
