"""Every text model trained on a line-file dataset (default MR), against a bigram NB-LR reference.

Trains each model with `python -m zoo_apps.text_classify` (its registered recipe,
timed as a whole command), exports the textcnn run (int8 vs Keras accuracy), and
scores a naive-Bayes-weighted logistic regression on uni+bigrams (Wang & Manning
2012) on the same split, in the same run. Test accuracies come with 95% Wilson
intervals; the model with the best validation accuracy (chosen without the test
split) is compared with the reference on the same test sentences (paired interval):

    python scripts/benchmark_text.py                      # the embedded MR sentences
    python scripts/benchmark_text.py --models=textcnn --seeds=0,1,2
"""

import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

import zoo
from zoo import evaluation
from zoo.datasets import load_text_dataset
from zoo.run_folder import load_keras_file
from zoo.tasks.classification import paired_difference_interval

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
    predict = lambda texts: model.predict(vectorizer.transform(texts).multiply(ratio).tocsr())  # noqa: E731
    return dict(
        validation=float(np.mean(predict(val) == y_val)),
        test=float(np.mean(predict(test) == y_test)),
        test_right=predict(test) == y_test,
    )


def test_right(model_dir, dataset, seed):
    """Which test texts the run's Keras model classifies correctly."""
    texts, labels = texts_and_labels(load_text_dataset(dataset, seed=seed).test)
    logits = load_keras_file(pathlib.Path(model_dir) / "model.keras").predict(tf.constant(texts), verbose=0)
    return logits.argmax(1) == labels


def interval(accuracy, count):
    low, high = evaluation.wilson_interval(accuracy, count)
    return f"{accuracy:.4f} ({low:.3f}-{high:.3f})"


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
        test_count=metrics["test"]["num_examples"],
        model_dir=model_dir,
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
    print("| model | seed | params | validation acc. | test acc. (95% interval) | int8 TFLite test acc. | command s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        int8 = f"{row['int8_test']:.4f}" if "int8_test" in row else "-"
        print(
            f"| `{row['model']}` | {row['seed']} | {row['params']:,} | {row['validation']:.4f} | "
            f"{interval(row['test'], row['test_count'])} | {int8} | {row['command_seconds']} |"
        )
    for seed in seeds:
        reference = nb_logistic_regression(FLAGS.dataset, seed)
        count = len(reference["test_right"])
        print(
            f"| bigram NB-LR (reference, scikit-learn) | {seed} | - | {reference['validation']:.4f} | "
            f"{interval(reference['test'], count)} | - | - |"
        )
        best = max((row for row in rows if row["seed"] == seed), key=lambda row: row["validation"])
        low, high = paired_difference_interval(
            test_right(best["model_dir"], FLAGS.dataset, seed), reference["test_right"]
        )
        print(
            f"seed {seed}: best by validation `{best['model']}` minus NB-LR on the same {count} test texts: "
            f"{best['test'] - reference['test']:+.4f} (95% {low:+.4f} to {high:+.4f})"
        )


if __name__ == "__main__":
    app.run(main)
