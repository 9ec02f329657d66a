"""Re-quantize a model from elsewhere, without its run: a `.keras` file or a SavedModel folder, calibrated
on images from a folder, to any TFLite flavour, each checked against the model it came from.

    python -m export --model=path/model.keras --calibration_images=photos/ --output_dir=out --formats=int8
"""

import pathlib

import keras
import numpy as np
import tensorflow as tf

from export import convert, verify
from export.predictor import Predictor
from zoo.errors import ZooError
from zoo.run_folder import load_keras_file
from zoo.tasks.classification import CALIBRATION_EXAMPLES, MIN_AGREEMENT
from zoo.tasks.image_input import pin_pixel_range, rgb_model

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _load(path):
    """`(callable model, input shape without batch, converter source)` of a .keras file or SavedModel."""
    path = pathlib.Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        (spec,) = signature.structured_input_signature[1].values()
        (output,) = signature.structured_outputs
        model = lambda x: signature(**{spec.name: tf.constant(x)})[output].numpy()  # noqa: E731
        return model, tuple(spec.shape[1:]), path
    model = load_keras_file(path)
    # A grayscale model takes RGB in its files (gray inside), as MediaPipe Tasks and cameras give.
    return (lambda x: np.asarray(model(x, training=False))), tuple(model.input_shape[1:]), rgb_model(model)


def load_images(folder, input_shape, limit=2000):
    """Float32 raw pixels of the images under `folder` (recursively), resized to `input_shape`."""
    files = sorted(p for p in pathlib.Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not files:
        raise ZooError(f"{folder} holds no images ({'/'.join(IMAGE_SUFFIXES)}): pass a folder of calibration images.")
    height, width, channels = input_shape
    images = []
    for file in files:
        try:
            image = tf.io.decode_image(tf.io.read_file(str(file)), channels=channels, expand_animations=False)
        except tf.errors.OpError:
            raise ZooError(f"Cannot decode {file}: fix or delete it.") from None
        images.append(np.asarray(tf.image.resize(tf.cast(image, tf.float32), (height, width))))
    return np.stack(images)


def requantize(model_path, calibration_images, output_dir, flavours=convert.FLAVOURS, labels=None):
    """Writes `output_dir/model_<flavour>.tflite` for a model from elsewhere; returns rows of agreement.

    Args:
        model_path: a `.keras` file or a SavedModel folder taking raw images (batch, height, width, channels).
        calibration_images: a folder of images, resized to the model's input; the first 300
            calibrate int8, all of them (up to 2,000) measure agreement with the original model.
        output_dir: where the files and their sidecars go.
        flavours: any of `float32`, `float16`, `dynamic`, `int8`.
        labels: class names in output order, for the sidecar and the file's metadata.
    """
    model, input_shape, source = _load(model_path)
    if len(input_shape) != 3 or None in input_shape:
        raise ZooError(f"{model_path} takes inputs of shape {input_shape}: re-quantizing needs fixed-size images.")
    images = load_images(calibration_images, input_shape)
    reference = np.concatenate([model(images[i : i + 256]) for i in range(0, len(images), 256)])
    if labels is not None and len(labels) != reference.shape[-1]:
        raise ZooError(
            f"The labels name {len(labels)} classes but {model_path} has {reference.shape[-1]} outputs: "
            "pass --labels with one class name per output, in output order."
        )
    metadata = dict(
        task="image_classification",
        model=pathlib.Path(model_path).name,
        dataset=str(calibration_images),
        input_shape=list(input_shape),
        input_value_range=[0, 255],
    )
    if labels:
        metadata["labels"] = list(labels)
    rows = []
    for flavour in flavours:
        path = pathlib.Path(output_dir) / f"model_{flavour}.tflite"
        calibration = list(images[:CALIBRATION_EXAMPLES]) if flavour == "int8" else None
        if calibration and isinstance(source, keras.Model):  # `rgb_model`: RGB in, its pixel range pinned to 0-255
            calibration = pin_pixel_range([np.repeat(x, 3, -1) if x.shape[-1] == 1 else x for x in calibration])
        convert.to_tflite(source, path, flavour, representative_data=calibration, metadata=metadata)
        outputs = Predictor(path).outputs(images, allow_unit_range=True)
        agreement = float(np.mean(outputs.argmax(1) == reference.argmax(1)))
        rows.append(
            dict(
                file=path.name,
                size_bytes=verify.size_bytes(path),
                agreement=agreement,
                examples=len(images),
                max_abs_diff=float(np.abs(outputs - reference).max()),
                passed=agreement >= MIN_AGREEMENT,
            )
        )
        print(f"{path}: {rows[-1]['size_bytes'] / 1024:,.1f} KB, agreement {agreement:.4f} on {len(images)} images")
    return rows
