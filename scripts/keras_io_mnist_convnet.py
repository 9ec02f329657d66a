"""The keras-io "Simple MNIST convnet" example (F. Chollet), as published, on arrays from a .npz file.

The peer that `scripts/benchmark_default.py` times the default command against. Its recipe, unchanged:
pixels / 255, Conv(32, 3x3) -> MaxPool(2) -> Conv(64, 3x3) -> MaxPool(2) -> Flatten -> Dropout(0.5) ->
Dense(10, softmax); categorical cross-entropy, adam, batch 128, 15 epochs, validation_split 0.1.
Only the data differs: `keras.datasets.mnist.load_data()` becomes the .npz that --data names (uint8
`x_train`, `y_train`, `x_test`, `y_test`, e.g. mnist_5k's training and test splits).

    python scripts/keras_io_mnist_convnet.py --data=mnist_5k_splits.npz --result=peer.json
"""

import argparse
import json

import keras
import numpy as np
from keras import layers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help=".npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--result", help="Write the test accuracy and loss here (JSON).")
    args = parser.parse_args()

    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    with np.load(args.data) as data:
        (x_train, y_train), (x_test, y_test) = (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.summary()

    batch_size = 128
    epochs = 15
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    if args.result:
        with open(args.result, "w") as f:
            json.dump(dict(test_loss=float(score[0]), test_accuracy=float(score[1])), f)


if __name__ == "__main__":
    main()
