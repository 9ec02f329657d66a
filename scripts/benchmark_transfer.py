"""Few-shot transfer on Fashion-MNIST (Debian's dataset-fashion-mnist): EfficientNet-Lite0 from ImageNet
vs the same network from scratch vs zoo's `cnn`, on the 10,000 official test images with 95% intervals.

    python scripts/benchmark_transfer.py --shots=10,100 --image_size=96 --output=transfer.json

The ImageNet model is fine-tuned in two phases, with every batch norm in inference mode (ImageNet's
statistics): the new head alone (`--warmup_epochs`, learning rate 1e-3), then the whole network at a
tenth of it (`--epochs`). The scratch models train `--warmup_epochs + --epochs` epochs at 1e-3.
Every model then has its trainable batch norms' statistics recomputed on its training images
(`zoo.batch_norm.recalibrate`): without it the scratch EfficientNet's running averages lag its weights
and it predicts one class for every test image (accuracy 0.100; the ImageNet model's batch norms are
frozen, so it is unchanged).
Training images are drawn per class with `--seed`; augmentation: random shifts, zooms and flips.
"""

import argparse
import json
import math
import time

import keras
import numpy as np
import tensorflow as tf

import zoo
from zoo import batch_norm
from zoo.datasets import fashion_mnist_deb
from zoo.datasets.augment import random_affine


def few_shot(images, labels, shots, seed):
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == c), shots, replace=False) for c in range(10)])
    return images[chosen], labels[chosen]


def pipeline(images, labels, size, batch, seed=None):
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    if seed is not None:
        data = data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    data = data.map(lambda x, y: (tf.image.resize(tf.cast(x, tf.float32), (size, size)), y)).batch(batch)
    if seed is not None:  # a fresh stateless seed per batch and epoch
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        data = tf.data.Dataset.zip((data, seeds)).map(
            lambda xy, s: (random_affine(xy[0], s, rotation=0.0, zoom=0.1, shift=0.1, flip=True), xy[1])
        )
    return data.prefetch(2)


def fit(model, train, epochs, rate):
    model.compile(
        optimizer=keras.optimizers.AdamW(rate, weight_decay=1e-5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=0)
    return (time.perf_counter() - start) / epochs


def train_model(kind, images, labels, args):
    size = 28 if kind == "cnn" else args.image_size
    keras.utils.set_random_seed(args.seed)  # first: the pipeline's shuffle and augmentation seeds depend on it
    train = pipeline(images, labels, size, args.batch_size, seed=args.seed)
    if kind == "cnn":
        model = zoo.create_model("cnn", 10, (28, 28, 1))
        return model, size, [fit(model, train, args.warmup_epochs + args.epochs, 1e-3)]
    if kind == "scratch":
        model = zoo.create_model("efficientnet_lite0", 10, (size, size, 1))
        return model, size, [fit(model, train, args.warmup_epochs + args.epochs, 1e-3)]
    model = zoo.create_model("efficientnet_lite0", pretrained="imagenet", num_classes=10, input_shape=(size, size, 1))
    for layer in model.layers:
        layer.trainable = layer.name == "logits"
    seconds = [fit(model, train, args.warmup_epochs, 1e-3)]
    for layer in model.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    return model, size, seconds + [fit(model, train, args.epochs, 1e-4)]


def accuracy(model, images, labels, size):
    logits = model.predict(pipeline(images, labels, size, 250), verbose=0)
    correct = float(np.mean(np.argmax(logits, -1) == labels))
    half = 1.96 * math.sqrt(correct * (1 - correct) / len(labels))
    return dict(accuracy=round(correct, 4), interval_95=[round(correct - half, 4), round(correct + half, 4)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", default="10,100", help="training images per class, comma-separated")
    parser.add_argument("--models", default="imagenet,scratch,cnn")
    parser.add_argument("--image_size", type=int, default=96, help="EfficientNet input (28x28 upsampled)")
    parser.add_argument("--warmup_epochs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="JSON file for the results")
    args = parser.parse_args()
    try:
        arrays = fashion_mnist_deb.load_arrays()
    except zoo.ZooError as error:
        raise SystemExit(f"error: {error}") from None
    test_images, test_labels = arrays["test"]
    results = []
    for shots in [int(s) for s in args.shots.split(",")]:
        images, labels = few_shot(*arrays["train"], shots, args.seed)
        for kind in args.models.split(","):
            model, size, seconds = train_model(kind, images, labels, args)
            recalibrated = batch_norm.recalibrate(model, pipeline(images, labels, size, 50))
            row = dict(model=kind, shots=shots, image_size=size, seconds_per_epoch=[round(s, 2) for s in seconds])
            row.update(batch_norms_recalibrated=recalibrated)
            row.update(accuracy(model, test_images, test_labels, size), test_images=len(test_labels))
            print(json.dumps(row), flush=True)
            results.append(row)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(dict(args=vars(args), results=results), f, indent=1)


if __name__ == "__main__":
    main()
