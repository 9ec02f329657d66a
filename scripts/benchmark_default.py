"""Wall time and test accuracy of the default command against the keras-io "Simple MNIST convnet" example.

Both run as fresh processes (start-up and imports included), alternately (the peer first in odd
rounds, zoo first in even ones) so that drifts in machine load hit both alike, on the same data: the zoo's
mnist_5k split with seed 0; the peer (scripts/keras_io_mnist_convnet.py) trains on its 4,000 training
digits (holding out 10% for validation, as published) and both are scored on its 500 test digits.

    python scripts/benchmark_default.py --rounds=3
"""

import json
import pathlib
import sys
import tempfile

import numpy as np
from absl import app, flags
from commands import timed

from zoo.datasets import load_image_dataset

flags.DEFINE_integer("rounds", 3, "Rounds of (zoo, peer), alternating which goes first.")
flags.DEFINE_list("zoo_args", [], "Extra flags for the zoo command, e.g. --zoo_args=--epochs=30.")
FLAGS = flags.FLAGS

PEER = pathlib.Path(__file__).with_name("keras_io_mnist_convnet.py")


def write_peer_data(path):
    """mnist_5k's training and test splits (seed 0, as the default command splits it) as the peer's .npz."""
    splits = load_image_dataset("mnist_5k", seed=0)
    arrays = {}
    for name, split in (("train", splits.train), ("test", splits.test)):
        images, labels = (np.stack(a) for a in zip(*split.as_numpy_iterator()))
        arrays[f"x_{name}"], arrays[f"y_{name}"] = images[..., 0], labels
    np.savez(path, **arrays)


def run_zoo(folder, index):
    model_dir = folder / f"zoo{index}"
    command = [sys.executable, "-m", "zoo_apps.image_classify", "--model=cnn", f"--model_dir={model_dir}"]
    seconds = timed(command + FLAGS.zoo_args, quiet=True)
    return *seconds, json.loads((model_dir / "metrics.json").read_text())["test"]["accuracy"]


def run_peer(folder, index):
    result = folder / f"peer{index}.json"
    seconds = timed([sys.executable, str(PEER), f"--data={folder / 'data.npz'}", f"--result={result}"], quiet=True)
    return *seconds, json.loads(result.read_text())["test_accuracy"]


def main(argv):
    runs = {"zoo": run_zoo, "peer": run_peer}
    results = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        write_peer_data(folder / "data.npz")
        for index in range(FLAGS.rounds):
            for name in sorted(runs, reverse=bool(index % 2)):  # peer first, then zoo first, ...
                wall, cpu, accuracy = runs[name](folder, index)
                results[name].append((wall, cpu, accuracy))
                print(f"round {index + 1} {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, test {accuracy:.4f}", flush=True)
    zoo_command = " ".join(["python -m zoo_apps.image_classify --model=cnn", *FLAGS.zoo_args])
    print(f"\n{zoo_command}  vs  keras-io 'Simple MNIST convnet', mnist_5k, {FLAGS.rounds} alternating rounds")
    for name, label in (("zoo", "zoo default command"), ("peer", "keras-io example")):
        wall, cpu, accuracy = (np.array(a) for a in zip(*results[name]))
        print(
            f"  {label:20s} wall {np.median(wall):5.1f} s (runs: {listed(wall, '.1f')}), CPU {np.median(cpu):5.1f} s "
            f"(runs: {listed(cpu, '.1f')}), test accuracy {np.median(accuracy):.4f} (runs: {listed(accuracy, '.4f')})"
        )
    for index, what in ((0, "wall"), (1, "CPU")):
        ratios = [zoo[index] / peer[index] for zoo, peer in zip(results["zoo"], results["peer"])]
        print(f"  ratio zoo / peer, {what}: median {np.median(ratios):.2f} (per round {listed(ratios, '.2f')})")


def listed(values, spec):
    return ", ".join(format(value, spec) for value in values)


if __name__ == "__main__":
    app.run(main)
