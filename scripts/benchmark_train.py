"""Training throughput of the zoo's input pipeline vs plain `model.fit` on in-memory arrays.

Same model, same data, same batch size, both measured in this run, after one
warm-up epoch, alternating between the two so machine load hits both alike:

    python scripts/benchmark_train.py --model=cnn --dataset=mnist_5k

With --workers=1,2 it instead trains the model with the training app (its
registered recipe) on 1 and on 2 local workers (`--strategy=multi_worker`
through scripts/launch_local_cluster.py) and compares accuracy and throughput:

    python scripts/benchmark_train.py --model=cnn --workers=1,2
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np
from absl import app, flags

import zoo
from zoo.datasets import load_image_dataset
from zoo_apps import trainer

flags.DEFINE_string("model", "cnn", "Registered model.")
flags.DEFINE_string("dataset", "mnist_5k", "Image dataset.")
flags.DEFINE_integer("batch_size", 64, "Examples per batch.")
flags.DEFINE_integer("epochs", 3, "Timed epochs per measurement (after a warm-up epoch).")
flags.DEFINE_integer("rounds", 6, "Rounds of (zoo, plain), alternating which goes first.")
flags.DEFINE_list("workers", None, "Compare full app runs on these numbers of local workers instead.")
FLAGS = flags.FLAGS


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)

    def on_train_begin(self, logs=None):
        self.seconds = []


def compiled_model(splits, recipe):
    keras.utils.set_random_seed(0)
    model = zoo.create_model(FLAGS.model, splits.num_classes, splits.input_shape)
    model.compile(
        optimizer=trainer.make_optimizer(recipe, 1),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def examples_per_second(fit, num_examples):
    timer = EpochTimer()
    fit(epochs=FLAGS.epochs + 1, callbacks=[timer])
    return num_examples / np.median(timer.seconds[1:])


def train_on_workers(num_workers, model_dir):
    """Runs the app on `num_workers` local workers; returns its metrics.json."""
    launcher = pathlib.Path(__file__).with_name("launch_local_cluster.py")
    command = [
        sys.executable,
        str(launcher),
        f"--num_workers={num_workers}",
        "--",
        "-m",
        "zoo_apps.image_classify",
        f"--model={FLAGS.model}",
        f"--dataset={FLAGS.dataset}",
        "--strategy=multi_worker",
        f"--model_dir={model_dir}",
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads((pathlib.Path(model_dir) / "metrics.json").read_text())


def compare_workers():
    print(f"\n{FLAGS.model} on {FLAGS.dataset}, registered recipe, global batch size unchanged")
    with tempfile.TemporaryDirectory() as folder:
        for num_workers in (int(n) for n in FLAGS.workers):
            metrics = train_on_workers(num_workers, f"{folder}/workers{num_workers}")
            print(
                f"  {num_workers} worker(s): test accuracy {metrics['test']['accuracy']:.4f}, "
                f"validation {metrics['validation_accuracy']:.4f}, "
                f"{metrics['examples_per_second']:.0f} examples/s, {metrics['training_seconds']:.0f} s"
            )


def main(argv):
    if FLAGS.workers:
        return compare_workers()
    splits = load_image_dataset(FLAGS.dataset)
    recipe = dict(
        zoo.model_info(FLAGS.model)["recipe"], augment=False, lr_schedule="constant", batch_size=FLAGS.batch_size
    )
    images, labels = (np.stack(a) for a in zip(*splits.train.as_numpy_iterator()))
    one_hot = keras.utils.to_categorical(labels, splits.num_classes)
    pipeline, _ = zoo.get_task("image_classification").training_pipelines(splits, recipe, seed=0)

    fits = {
        "zoo pipeline": lambda model, **kw: model.fit(pipeline, shuffle=False, verbose=0, **kw),
        "plain model.fit(arrays)": lambda model, **kw: model.fit(
            images, one_hot, batch_size=FLAGS.batch_size, shuffle=True, verbose=0, **kw
        ),
    }
    results = {name: [] for name in fits}
    for round_index in range(FLAGS.rounds):
        # Alternate which goes first, so that drifts in machine load hit both alike.
        for name in sorted(fits, reverse=bool(round_index % 2)):
            model = compiled_model(splits, recipe)
            fit = fits[name]
            results[name].append(examples_per_second(lambda fit=fit, model=model, **kw: fit(model, **kw), len(labels)))
    print(f"\n{FLAGS.model} on {FLAGS.dataset}, batch {FLAGS.batch_size}, {len(labels)} training examples")
    for name, values in results.items():
        print(f"  {name:26s} {np.median(values):9.0f} examples/s  (rounds: {', '.join(f'{v:.0f}' for v in values)})")
    ratio = np.median(results["zoo pipeline"]) / np.median(results["plain model.fit(arrays)"])
    print(f"  ratio zoo / plain: {ratio:.2f}")


if __name__ == "__main__":
    app.run(main)
