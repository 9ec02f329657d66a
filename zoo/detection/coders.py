"""Box coders: what turns a detector's output into boxes, and its training targets into a loss.

A detector names its coder by its output layer (a layer with `box_coder()`, e.g. `zoo.detection.anchors.
AnchorOutputs`); one that names none returns centre maps (`zoo.detection.points`, `PointsCoder`). The detection
head asks `coder_of(model)` for the loss, the Keras-side decoding, the file's post-processing and the operators
an int8 file keeps float32, so it never asks which model it has.
"""

import numpy as np

from zoo.detection import points
from zoo.detection.postprocess import INT8_FLOAT_OPERATORS, DetectionPostprocess


class PointsCoder:
    """Objects as points: stride-4 centre maps, CenterNet's loss, peak decoding."""

    int8_float_operators = INT8_FLOAT_OPERATORS
    key = ("points",)

    def loss(self):
        return points.centernet_loss

    def postprocess(self, image_size):
        return DetectionPostprocess(image_size, name="postprocess")

    def predict_boxes(self, model, images):
        return points.predict_boxes(model, images)


def coder_of(model):
    """The box coder a detector names (searching nested models too); `PointsCoder` when it names none."""
    import keras

    for layer in reversed(model.layers):
        if hasattr(layer, "box_coder"):
            return layer.box_coder()
        if isinstance(layer, keras.Model):
            found = coder_of(layer)
            if not isinstance(found, PointsCoder):
                return found
    return PointsCoder()


_POSTPROCESS = {}


def detections_of(outputs, image_size, coder=None):
    """The four outputs as a dict of arrays: a file's as they are, Keras's raw outputs through the same
    post-processing the file holds (`coder`'s, default centre maps'; batch of one at a time, as in the file)."""
    if isinstance(outputs, dict):
        return outputs
    import tensorflow as tf

    coder = coder or PointsCoder()
    key = (coder.key, tuple(image_size))
    if key not in _POSTPROCESS:
        _POSTPROCESS[key] = tf.function(coder.postprocess(image_size), reduce_retracing=True)
    found = [_POSTPROCESS[key](tf.constant(maps[None])) for maps in np.asarray(outputs, np.float32)]
    return {name: np.concatenate([np.asarray(f[name]) for f in found]) for name in found[0]}


def as_pixel_detections(found, image_size, min_score=0.0):
    """Per image `(boxes [x1, y1, x2, y2] pixels, scores, classes)` of the four outputs."""
    height, width = image_size
    results = []
    for location, category, score, count in zip(
        found["location"], found["category"], found["score"], found["number_of_detections"]
    ):
        keep = (np.arange(len(score)) < int(count)) & (score >= min_score)
        ymin, xmin, ymax, xmax = (location[keep] * [height, width, height, width]).T
        results.append((np.stack([xmin, ymin, xmax, ymax], -1), score[keep], category[keep].astype(int)))
    return results


def predict_boxes(model, images, batch_size=128):
    """Per image `(boxes (k, 4) pixel [x1, y1, x2, y2], scores (k,), classes (k,))` of detector `model`."""
    coder = coder_of(model)
    if hasattr(coder, "predict_boxes"):
        return coder.predict_boxes(model, images)
    size = images.shape[1:3]
    outputs = np.concatenate([np.asarray(model(images[i : i + batch_size])) for i in range(0, len(images), batch_size)])
    return as_pixel_detections(detections_of(outputs, size, coder), size)
