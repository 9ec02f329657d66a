"""Kill-and-resume check: does a run killed mid-way and re-run end exactly like one never interrupted?

Trains the default command (`python -m zoo_apps.image_classify --model=cnn`, or --model/--dataset
given here) twice into fresh folders: once straight through, once killed with SIGKILL after
--kill_after_epoch epochs and re-run with the same command. Prints whether metrics.json (the
test and validation results) and the final weights match exactly:

    python scripts/check_resume.py                      # cnn on mnist_5k, 60 epochs: about 3 minutes
    python scripts/check_resume.py --dataset=digits --epochs=8 --kill_after_epoch=3
"""

import json
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import flags

from zoo.cli import run_main
from zoo.run_folder import load_keras_file

flags.DEFINE_string("model", "cnn", "Registered image model.")
flags.DEFINE_string("dataset", "mnist_5k", "Dataset.")
flags.DEFINE_integer("epochs", None, "Epochs (default: the model's recipe).", lower_bound=2)
flags.DEFINE_integer(
    "kill_after_epoch", 3, "Kill the second run once this many epochs are checkpointed.", lower_bound=1
)
FLAGS = flags.FLAGS


def command(model_dir):
    args = [f"--model={FLAGS.model}", f"--dataset={FLAGS.dataset}", f"--model_dir={model_dir}"]
    return [sys.executable, "-m", "zoo_apps.image_classify", *args] + (
        [f"--epochs={FLAGS.epochs}"] if FLAGS.epochs else []
    )


def killed_and_resumed(model_dir):
    process = subprocess.Popen(command(model_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = pathlib.Path(model_dir) / "checkpoints" / "training_metadata.json"
    while not (checkpoint.exists() and json.loads(checkpoint.read_text())["epoch"] >= FLAGS.kill_after_epoch):
        if process.poll() is not None:
            raise SystemExit("the run ended before it could be killed: raise --epochs")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    subprocess.run(command(model_dir), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv):
    with tempfile.TemporaryDirectory() as tmp:
        straight, resumed = pathlib.Path(tmp, "straight"), pathlib.Path(tmp, "resumed")
        subprocess.run(command(straight), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed_and_resumed(resumed)
        metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (straight, resumed)]
        weights = [load_keras_file(folder / "model.keras").get_weights() for folder in (straight, resumed)]
    same_weights = all(np.array_equal(a, b) for a, b in zip(*weights))
    keys = ("test", "validation_accuracy")
    same_metrics = all(metrics[0][key] == metrics[1][key] for key in keys)
    print(f"resumed from epoch {metrics[1]['resumed_from_epoch']}")
    print(
        f"test accuracy: uninterrupted {metrics[0]['test']['accuracy']:.4f}, "
        f"resumed {metrics[1]['test']['accuracy']:.4f}"
    )
    print(f"metrics.json (test, validation) identical: {same_metrics}; final weights identical: {same_weights}")
    if not (same_metrics and same_weights):
        raise SystemExit(1)


if __name__ == "__main__":
    run_main(main)
