"""Robustness and explanation faithfulness of the shipped vision classifiers, on mnist_5k's test split.

For each shipped image classifier of mnist_5k (`zoo.pretrained.list_pretrained()`): accuracy on the
500 test images, and under FGSM and PGD (20 steps, seeded random start) at L-infinity budgets of 8, 25
and 51 pixels (of 255), with 95% Wilson intervals. The same adversarial images, crafted on the Keras
model, are replayed on its int8 TFLite file (`export.to_tflite(..., flavour="int8")`, calibrated on 300
training images, run with `export.Predictor`): the paired 95% interval of (int8 - Keras) accuracy says
whether quantization changes robustness. On the first entry (the default cnn): deleting the 10% of
pixels that Integrated Gradients or Grad-CAM rank highest against deleting 10% random pixels, and the
randomization test (Spearman rank correlation of the trained and a re-initialized model's attributions).

    python scripts/benchmark_robustness.py [--entries=cnn_mnist_5k,...] [--examples=500] [--output=out.json]
"""

import json
import pathlib
import tempfile
import time

import numpy as np
from absl import flags

import export
import zoo
from zoo.cli import run_main
from zoo.explainability import attacks, checks
from zoo.pretrained.manifest import pretrained_info
from zoo.tasks.classification import paired_difference_interval

flags.DEFINE_list("entries", None, "Shipped entries to measure; default every image classifier of mnist_5k.")
flags.DEFINE_integer("examples", 500, "Test images (mnist_5k's test split has 500).", lower_bound=1)
flags.DEFINE_integer("pgd_steps", attacks.PGD_STEPS, "PGD steps.", lower_bound=1)
flags.DEFINE_integer("sanity_examples", 50, "Images for the randomization test.", lower_bound=2)
flags.DEFINE_string("output", None, "Also write the results as JSON here.")
FLAGS = flags.FLAGS


def vision_entries():
    return [
        name
        for name in zoo.pretrained.list_pretrained()
        if pretrained_info(name).get("task") == "image_classification"
        and pretrained_info(name).get("dataset") == "mnist_5k"
    ]


def int8_predictor(model, train_images, folder):
    path = pathlib.Path(folder) / f"{model.name}_int8.tflite"
    representative = list(train_images[:300])
    export.to_tflite(
        model, path, flavour="int8", representative_data=representative, metadata=dict(task="image_classification")
    )
    return export.Predictor(path)


def measure_entry(name, images, labels, train_images, folder):
    model = zoo.load_pretrained(name)
    tflite = int8_predictor(model, train_images, folder)
    rows = []
    for method in attacks.ATTACKS:
        for epsilon in (0, *attacks.BUDGETS):
            if epsilon == 0 and method == "pgd":
                continue
            start = time.time()
            adversarial = attacks.attack(model, images, labels, epsilon, method, steps=FLAGS.pgd_steps)
            keras_right = attacks.predict_classes(model, adversarial) == labels
            int8_right = tflite.outputs(adversarial).argmax(-1) == labels
            rows.append(
                dict(
                    entry=name,
                    attack="none" if epsilon == 0 else method,
                    epsilon=epsilon,
                    keras=attacks.accuracy(keras_right),
                    int8=attacks.accuracy(int8_right),
                    int8_minus_keras=list(paired_difference_interval(int8_right, keras_right)),
                    seconds=round(time.time() - start, 1),
                )
            )
            print(_row_line(rows[-1]), flush=True)
    return rows


def _cell(result):
    low, high = result["interval"]
    return f"{result['accuracy']:.3f} ({low:.3f}-{high:.3f})"


def _row_line(row):
    low, high = np.clip(row["int8_minus_keras"], -1, 1)
    budget = "clean" if row["attack"] == "none" else f"{row['attack']} {row['epsilon']}/255"
    return (
        f"| {row['entry']} | {budget} | {_cell(row['keras'])} | {_cell(row['int8'])} | "
        f"{100 * low:+.1f} to {100 * high:+.1f} | {row['seconds']} |"
    )


def faithfulness(name, images, labels):
    model = zoo.load_pretrained(name)
    results = {}
    for method in ("integrated_gradients", "grad_cam"):
        start = time.time()
        explanation = zoo.explain(model, images, method=method)
        results[method] = checks.deletion_test(model, images, labels, explanation.attributions)
        results[method]["seconds"] = round(time.time() - start, 1)
        result = results[method]
        low, high = np.clip(result["difference_interval"], -1, 1)
        print(
            f"| {name} | {method} | {_cell(result['most_attributed'])} | {_cell(result['random'])} | "
            f"{100 * result['difference']:+.1f} ({100 * low:+.1f} to {100 * high:+.1f}) |",
            flush=True,
        )
    return results


def randomization(name, images):
    model = zoo.load_pretrained(name)
    randomized = checks.randomized_model(model)
    results = {}
    for method in ("integrated_gradients", "grad_cam"):
        trained = zoo.explain(model, images, method=method)
        other = zoo.explain(randomized, images, method=method, target=trained.targets).attributions
        pairs = list(zip(trained.attributions, other))
        results[method] = float(np.mean([checks.rank_correlation(a, b) for a, b in pairs]))
        if method == "integrated_gradients":
            results["integrated_gradients_absolute"] = float(
                np.mean([checks.rank_correlation(np.abs(a), np.abs(b)) for a, b in pairs])
            )
            ink = images[..., 0] > 0
            results["integrated_gradients_absolute_on_ink"] = float(
                np.mean(
                    [
                        checks.rank_correlation(np.abs(a[..., 0][s]), np.abs(b[..., 0][s]))
                        for (a, b), s in zip(pairs, ink)
                    ]
                )
            )
    for key, value in results.items():
        print(f"| {name} | {key} | {value:.3f} |", flush=True)
    return results


def main(argv):
    del argv
    entries = FLAGS.entries or vision_entries()
    splits = zoo.get_task("image_classification").load_data("mnist_5k", seed=0)
    images, labels = (np.concatenate([np.asarray(part) for part in column]) for column in zip(*splits.test.batch(500)))
    images, labels = images[: FLAGS.examples].astype(np.float32), labels[: FLAGS.examples]
    train_images = np.concatenate([np.asarray(x) for x, _ in splits.train.batch(300).take(1)])
    results = dict(examples=int(len(labels)), pgd_steps=FLAGS.pgd_steps, robustness=[])
    print(f"mnist_5k test split, {len(labels)} images; PGD {FLAGS.pgd_steps} steps; accuracy (95% Wilson)")
    print("| entry | attack | Keras | int8 TFLite | int8 - Keras, points (paired 95%) | s |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in entries:
            results["robustness"] += measure_entry(name, images, labels, train_images, folder)
    print("\n| entry | method | 10% top pixels deleted | 10% random deleted | random - top, points (paired 95%) |")
    print("|---|---|---|---|---|")
    results["faithfulness"] = faithfulness(entries[0], images, labels)
    print("\n| entry | randomization test: mean Spearman, trained vs re-initialized | value |\n|---|---|---|")
    results["randomization"] = randomization(entries[0], images[: FLAGS.sanity_examples])
    if FLAGS.output:
        pathlib.Path(FLAGS.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    run_main(main)
