"""Trains the shipped pretrained weights with the registered recipes and rewrites the manifest.

Each entry `<model>_<dataset>` is one run of the training app with the model's
registered recipe, then exported and described by a model card:

    python scripts/train_pretrained.py                                 # every entry
    python scripts/train_pretrained.py --entries=cnn_digits --epochs=2 \\
        --output_dir=/tmp/pretrained --runs_dir=/tmp/runs                # a quick check

For each entry it writes `<output_dir>/weights/<entry>.weights.npz` (float16),
`<output_dir>/cards/<entry>/MODEL_CARD.md` (with its confusion matrix) and the
entry of `<output_dir>/manifest.json`, keeping the other entries there. The
default output is the package (`zoo/pretrained/`). Runs that finished already
in --runs_dir are reused as they are; an interrupted one resumes.
"""

import pathlib
import subprocess
import sys

import keras
from absl import flags, logging

import zoo
from zoo.card import write_model_card
from zoo.cli import run_main
from zoo.datasets import load_image_dataset
from zoo.explainability import attacks
from zoo.pretrained import manifest
from zoo.pretrained.weights_file import SUFFIX, save_float16_weights
from zoo.tasks.classification import predict_logits, split_arrays

# (model, dataset, variant, extra app flags) per entry, named `<model>[_<variant>]_<dataset>`; the first entry
# of each model is its default. A variant fine-tunes an entry trained before it in this list.
ENTRIES = (
    ("cnn", "mnist_5k", None, ()),
    ("convnet", "mnist_5k", None, ()),
    ("lenet5", "mnist_5k", None, ()),
    ("resnet20", "mnist_5k", None, ()),
    ("cnn", "digits", None, ()),
    # Madry et al.'s PGD adversarial training (PGD-7 at 25/255), 2 epochs from the standard cnn (#30).
    (
        "cnn",
        "mnist_5k",
        "robust",
        ("--pretrained=cnn_mnist_5k", "--adversarial=pgd", "--adversarial_epsilon=25", "--epochs=2"),
    ),
)
NAMES = [f"{model}_{variant}_{dataset}" if variant else f"{model}_{dataset}" for model, dataset, variant, _ in ENTRIES]
# Accuracy under attack that image entries' manifest entries and cards report (pixels of 255).
ROBUSTNESS_BUDGETS = (8, 25, 51)
ROBUSTNESS_PGD_STEPS = 40  # Madry et al.'s MNIST evaluation attack

flags.DEFINE_list("entries", NAMES, "Entries to train.")
flags.DEFINE_integer("epochs", None, "Override the recipe's epochs (quick checks only).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of every run.", lower_bound=0)
flags.DEFINE_string("runs_dir", "runs/pretrained", "Where the training runs go, one folder per entry.")
flags.DEFINE_string("output_dir", str(manifest.MANIFEST_PATH.parent), "Where manifest.json, weights/ and cards/ go.")
flags.DEFINE_boolean("export", True, "Export each run (SavedModel, TFLite) so its card has sizes and latencies.")
FLAGS = flags.FLAGS


def training_command(model, dataset, extra=()):
    """The app command line of an entry, without --model_dir."""
    command = [
        "python",
        "-m",
        "zoo_apps.image_classify",
        f"--model={model}",
        f"--dataset={dataset}",
        f"--seed={FLAGS.seed}",
        *extra,
    ]
    return command + ([f"--epochs={FLAGS.epochs}"] if FLAGS.epochs else [])


def robustness(model, dataset):
    """Accuracy of `model` on the entry's test split under FGSM and PGD at `ROBUSTNESS_BUDGETS`."""
    images, labels = split_arrays(load_image_dataset(dataset, seed=FLAGS.seed).test)
    measured = dict(examples=len(labels), pgd_steps=ROBUSTNESS_PGD_STEPS)
    for method in ("fgsm", "pgd"):
        results = attacks.robust_accuracy(
            model, images, labels, ROBUSTNESS_BUDGETS, method, seed=FLAGS.seed, steps=ROBUSTNESS_PGD_STEPS
        )
        measured[method] = {str(budget): value for budget, value in results.items()}
    return measured


def test_accuracy(model, dataset):
    """Accuracy of `model` on the test split the entry's run was evaluated on."""
    splits = load_image_dataset(dataset, seed=FLAGS.seed)
    logits, labels = predict_logits(model, splits.test)
    return float((logits.argmax(1) == labels).mean())


def is_default(name):
    """Whether `name` is the first entry of its model in ENTRIES."""
    model = ENTRIES[NAMES.index(name)][0]
    return name == next(n for n, entry in zip(NAMES, ENTRIES) if entry[0] == model)


def main(argv):
    unknown = sorted(set(FLAGS.entries) - set(NAMES))
    if unknown:
        raise zoo.ZooError(f"Unknown entries {unknown}: use any of {', '.join(NAMES)}.")
    output_dir = pathlib.Path(FLAGS.output_dir)
    manifest_path = output_dir / "manifest.json"
    entries = manifest.read_manifest(manifest_path) if manifest_path.exists() else {}
    for name in FLAGS.entries:
        model_name, dataset, _, extra = ENTRIES[NAMES.index(name)]
        model_dir = pathlib.Path(FLAGS.runs_dir) / name
        command = [sys.executable, *training_command(model_name, dataset, extra)[1:], f"--model_dir={model_dir}"]
        command += ["--export=all"] if FLAGS.export else []  # the app also rewrites the run's card
        logging.info("%s: %s", name, " ".join(command))
        subprocess.run(command, check=True)
        weights_file = manifest.weights_dir(manifest_path) / f"{name}{SUFFIX}"
        model = keras.saving.load_model(model_dir / "model.keras", compile=False)
        save_float16_weights(model, weights_file)
        entries[name] = manifest.entry_from_run(
            model_dir, weights_file, is_default(name), " ".join(training_command(model_name, dataset, extra))
        )
        entries[name]["robustness"] = robustness(model, dataset)
        manifest.write_manifest(entries, manifest_path)
        # What users get: the float16 file through the public loader.
        shipped = zoo.load_pretrained(name, manifest_path=manifest_path)
        entries[name]["test_accuracy_float16_weights"] = test_accuracy(shipped, dataset)
        manifest.write_manifest(entries, manifest_path)
        write_model_card(model_dir, output_dir / "cards" / name, dict(entries[name], name=name))
        logging.info(
            "%s: test accuracy %.4f (float16 weights %.4f), %d bytes",
            name,
            entries[name]["test_accuracy"],
            entries[name]["test_accuracy_float16_weights"],
            entries[name]["size_bytes"],
        )
    print(f"wrote {manifest_path}: {', '.join(sorted(entries))}")


if __name__ == "__main__":
    run_main(main)
