"""Objects as points (Zhou, Wang and Krähenbühl 2019, "Objects as Points", arXiv:1904.07850).

A detector's output is one float32 map at stride `STRIDE`, shape `(H/4, W/4, C + 4)`: per cell, C class
heatmap logits (a sigmoid gives the chance that an object of that class is centred in the cell), the box's
width and height in cells, and the centre's sub-cell offset. Training targets have the same layout plus a
last channel that marks the centre cells (`(H/4, W/4, C + 5)`), so they batch as dense tensors and the
standard Keras `fit` trains the detector. Heatmap targets are Gaussians whose spread follows the box's
width and height (TTFNet, Liu et al. 2020); the loss is CenterNet's penalty-reduced focal loss plus L1 on
sizes (weight 0.1) and offsets (weight 1) at the centres.
"""

import keras
import numpy as np

STRIDE = 4
GAUSSIAN_ALPHA = 0.54  # TTFNet: sigma = alpha * side / 6
SIZE_WEIGHT, OFFSET_WEIGHT = 0.1, 1.0
PEAK_WINDOW = 3  # a peak is the largest score in its 3x3 window (CenterNet's max-pool "NMS")
MAX_DETECTIONS = 100  # candidates kept per image


def encode(boxes, classes, image_shape, num_classes):
    """Dense target `(H/4, W/4, C + 5)` float32 of one image's pixel `boxes` `[x1, y1, x2, y2]` and `classes`."""
    height, width = image_shape[0] // STRIDE, image_shape[1] // STRIDE
    target = np.zeros((height, width, num_classes + 5), np.float32)
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    for (x1, y1, x2, y2), label in zip(np.asarray(boxes, np.float64) / STRIDE, classes):
        center_x, center_y = (x1 + x2) / 2, (y1 + y2) / 2
        col, row = min(int(center_x), width - 1), min(int(center_y), height - 1)
        sigma_x = max(GAUSSIAN_ALPHA * (x2 - x1) / 6, 0.3)
        sigma_y = max(GAUSSIAN_ALPHA * (y2 - y1) / 6, 0.3)
        gaussian = np.exp(-((cols - col) ** 2) / (2 * sigma_x**2) - (rows - row) ** 2 / (2 * sigma_y**2))
        target[..., label] = np.maximum(target[..., label], gaussian)
        target[row, col, num_classes : num_classes + 5] = [x2 - x1, y2 - y1, center_x - col, center_y - row, 1.0]
    return target


@keras.saving.register_keras_serializable(package="zoo")
def centernet_loss(y_true, y_pred):
    """Per-image loss: focal loss on the heatmaps (normalised by the image's objects) + L1 on size and offset."""
    num_classes = keras.ops.shape(y_pred)[-1] - 4
    heat_true, heat_logits = y_true[..., :num_classes], y_pred[..., :num_classes]
    centers = y_true[..., -1:]
    count = keras.ops.maximum(keras.ops.sum(centers, axis=(1, 2, 3)), 1.0)
    prob = keras.ops.clip(keras.ops.sigmoid(heat_logits), 1e-4, 1 - 1e-4)
    positive = keras.ops.cast(heat_true >= 1.0 - 1e-6, "float32")
    positive_loss = keras.ops.log(prob) * (1 - prob) ** 2 * positive
    negative_loss = keras.ops.log(1 - prob) * prob**2 * (1 - heat_true) ** 4 * (1 - positive)
    focal = -keras.ops.sum(positive_loss + negative_loss, axis=(1, 2, 3))
    regression = keras.ops.abs(y_pred[..., num_classes:] - y_true[..., num_classes:-1]) * centers
    size = keras.ops.sum(regression[..., :2], axis=(1, 2, 3))
    offset = keras.ops.sum(regression[..., 2:], axis=(1, 2, 3))
    return (focal + SIZE_WEIGHT * size + OFFSET_WEIGHT * offset) / count


def decode(outputs, max_detections=MAX_DETECTIONS):
    """`(boxes, scores, classes)` of a batch of output maps: the `max_detections` best heatmap peaks per image,
    boxes in input pixels `[x1, y1, x2, y2]`, float32 `(batch, k, 4)`, scores `(batch, k)`, classes int32."""
    ops = keras.ops
    outputs = ops.convert_to_tensor(outputs, "float32")
    _, height, width, channels = outputs.shape
    num_classes = channels - 4
    heat = ops.sigmoid(outputs[..., :num_classes])
    peaks = ops.max_pool(heat, PEAK_WINDOW, strides=1, padding="same")
    heat = ops.where(ops.equal(heat, peaks), heat, ops.zeros_like(heat))
    scores, index = ops.top_k(ops.reshape(heat, (-1, height * width * num_classes)), max_detections)
    cell, classes = index // num_classes, index % num_classes
    rows, cols = ops.cast(cell // width, "float32"), ops.cast(cell % width, "float32")
    geometry = ops.take_along_axis(ops.reshape(outputs[..., num_classes:], (-1, height * width, 4)), cell[..., None], 1)
    center_x, center_y = cols + geometry[..., 2], rows + geometry[..., 3]
    half_w, half_h = geometry[..., 0] / 2, geometry[..., 1] / 2
    boxes = ops.stack([center_x - half_w, center_y - half_h, center_x + half_w, center_y + half_h], -1) * STRIDE
    return boxes, scores, ops.cast(classes, "int32")


def predict_boxes(model, images, batch_size=128, min_score=0.01):
    """Per image `(boxes (k, 4) pixel [x1, y1, x2, y2], scores (k,), classes (k,))` above `min_score`."""
    results = []
    for start in range(0, len(images), batch_size):
        boxes, scores, classes = (np.asarray(v) for v in decode(model(images[start : start + batch_size])))
        keep = scores >= min_score
        results += [(b[k], s[k], c[k]) for b, s, c, k in zip(boxes, scores, classes, keep)]
    return results


def boxes_of_targets(targets, num_classes, max_objects=MAX_DETECTIONS):
    """The boxes `encode` wrote into a batch of dense targets, for detectors trained on other targets: pixel
    `[x1, y1, x2, y2]` `(batch, k, 4)` and classes `(batch, k)` float32, centres first, padded with -1 (keras-hub's
    convention). Exact but for objects whose centres share a cell (their last one wins, as in training here)."""
    ops = keras.ops
    _, height, width, _ = targets.shape
    k = min(max_objects, height * width)
    marks, cell = ops.top_k(ops.reshape(targets[..., -1], (-1, height * width)), k)
    valid = marks > 0.5
    geometry = ops.take_along_axis(
        ops.reshape(targets[..., num_classes:-1], (-1, height * width, 4)), cell[..., None], 1
    )
    heat = ops.take_along_axis(
        ops.reshape(targets[..., :num_classes], (-1, height * width, num_classes)), cell[..., None], 1
    )
    rows, cols = ops.cast(cell // width, "float32"), ops.cast(cell % width, "float32")
    center_x, center_y = cols + geometry[..., 2], rows + geometry[..., 3]
    half_w, half_h = geometry[..., 0] / 2, geometry[..., 1] / 2
    boxes = ops.stack([center_x - half_w, center_y - half_h, center_x + half_w, center_y + half_h], -1) * STRIDE
    classes = ops.cast(ops.argmax(heat, axis=-1), "float32")  # the class whose heatmap peaks (1.0) there
    return ops.where(valid[..., None], boxes, -1.0), ops.where(valid, classes, -1.0)
