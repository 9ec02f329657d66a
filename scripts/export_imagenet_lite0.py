"""Exports the ImageNet EfficientNet-Lite0 classifier (1000 classes, labels in the file) to every TFLite
flavour and prints each file's size, Predictor's and MediaPipe's top-1 on scikit-image's photos.

    python scripts/export_imagenet_lite0.py --output_dir=out/efficientnet_lite0_imagenet

Calibration (int8): 300 random 224x224 crops of scikit-image's bundled photos (no ImageNet images ship
with zoo), so the int8 file is a check of conversion, not a tuned release.
"""

import argparse
import pathlib

import numpy as np
import tensorflow as tf

import export
import zoo
from export import mediapipe_tasks
from zoo.pretrained import imagenet

PHOTOS = ("coffee", "chelsea", "astronaut", "rocket", "immunohistochemistry", "hubble_deep_field", "camera", "clock")


def photos():
    import skimage.data

    images = [np.asarray(getattr(skimage.data, name)(), np.float32) for name in PHOTOS]
    return [np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image[..., :3] for image in images]


def calibration(images, count=300, size=224, seed=0):
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        image = images[index % len(images)]
        side = int(rng.integers(size // 2, min(image.shape[:2]) + 1))
        top, left = (int(rng.integers(0, n - side + 1)) for n in image.shape[:2])
        crops.append(tf.image.resize(image[top : top + side, left : left + side], (size, size)).numpy())
    return crops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default="out/efficientnet_lite0_imagenet")
    parser.add_argument("--formats", default=",".join(export.FLAVOURS))
    args = parser.parse_args()
    out = pathlib.Path(args.output_dir)
    model = zoo.create_model("efficientnet_lite0", pretrained=True)
    images = photos()
    resized = [tf.image.resize(image, (224, 224), antialias=True).numpy() for image in images]
    test = np.clip(np.round(np.stack(resized)), 0, 255)  # whole pixel values, as a camera gives
    saved_model = export.to_saved_model(model, out / "saved_model", batch_size=1)
    metadata = dict(task="image_classification", model="efficientnet_lite0", labels=imagenet.class_names())
    keras_top = [model.class_names[i] for i in np.argmax(model.predict(test, verbose=0), -1)]
    print("keras", dict(zip(PHOTOS, keras_top)))
    for flavour in args.formats.split(","):
        path = out / f"model_{flavour}.tflite"
        export.to_tflite(
            saved_model, path, flavour, calibration(images) if flavour == "int8" else None, metadata=metadata
        )
        predictor = [ranked[0][0] for ranked in export.Predictor(path).predict(test, top_k=1)]
        mediapipe = mediapipe_tasks.top1(path, test)
        print(flavour, f"{path.stat().st_size:,} bytes", "predictor", dict(zip(PHOTOS, predictor)))
        print(flavour, "mediapipe agrees with predictor:", mediapipe == predictor, mediapipe)


if __name__ == "__main__":
    main()
