"""Decoding and non-maximum suppression inside the exported file, with builtin TFLite operators only.

Peak picking is a 3x3 max-pool (MAX_POOL_2D), the best candidates come from TOPK_V2, and
`NonMaxSuppressionV5` with padding converts to the builtin NON_MAX_SUPPRESSION_V5 (per class, by moving
each class's boxes apart: `suppressed`; `combined_non_max_suppression` would need Flex). Outputs follow
what MediaPipe's ObjectDetector reads from a model with NMS inside:
`location` `[1, N, 4]` as `[ymin, xmin, ymax, xmax]` ratios of the image, `category` `[1, N]`, `score`
`[1, N]` and `number of detections` `[1]`, all float32, padded to N with zeros.
"""

import keras
import tensorflow as tf

from zoo.detection.points import MAX_DETECTIONS, PEAK_WINDOW, STRIDE

OUTPUT_NAMES = ("location", "category", "score", "number_of_detections")  # MediaPipe's order
# Operator types an int8 file keeps float32 (quantized after calibration with these denied): the decoding and NMS,
# and with them the network's own RESHAPE, TILE (upsampling) and ADD (top-down additions). Quantized decoding
# loses half the detections; shorter lists that leave RESHAPE and TILE int8 (with MUL, ADD and SUB float or not)
# find nothing at all (measured on mnist_scenes' test scenes).
INT8_FLOAT_OPERATORS = (
    "LOGISTIC", "MAX_POOL_2D", "EQUAL", "SELECT_V2", "TOPK_V2", "GATHER", "STRIDED_SLICE", "PACK", "RESHAPE",
    "MUL", "ADD", "SUB", "CONCATENATION", "TILE", "NON_MAX_SUPPRESSION_V5",
)  # fmt: skip
IOU_THRESHOLD = 0.5
SCORE_THRESHOLD = 0.05
CANDIDATES = 100


def suppressed(boxes, scores, classes, max_detections):
    """MediaPipe's four outputs (batch of one) of the candidate `boxes` (`[N, 4]` ratios), `scores` and `classes`
    that survive per-class NMS.

    Per class, with the one builtin NMS: each class's boxes are moved 2 apart (ratios lie in 0-1), so boxes of
    different classes never overlap. Class-agnostic NMS cost 4 points of mAP@0.5 on mnist_scenes (0.900 without
    NMS, 0.860 with it): where a digit's peak is also high in another class's map, it can keep the wrong class
    and drop the right one."""
    offset = tf.cast(classes, tf.float32)[:, None] * 2.0
    selected, selected_scores, count = tf.raw_ops.NonMaxSuppressionV5(
        boxes=boxes + offset,
        scores=scores,
        max_output_size=max_detections,
        iou_threshold=IOU_THRESHOLD,
        score_threshold=SCORE_THRESHOLD,
        soft_nms_sigma=0.0,
        pad_to_max_output_size=True,
    )
    valid = tf.range(max_detections) < count
    return dict(
        location=tf.where(valid[:, None], tf.gather(boxes, selected), 0.0)[None],
        category=tf.where(valid, tf.cast(tf.gather(classes, selected), tf.float32), 0.0)[None],
        score=tf.where(valid, selected_scores, 0.0)[None],
        number_of_detections=tf.cast(tf.reshape(count, [1]), tf.float32),
    )


class DetectionPostprocess(keras.layers.Layer):
    """Centre maps `(1, h, w, classes + 4)` to MediaPipe's four detection outputs (batch of one)."""

    def __init__(self, image_size, max_detections=MAX_DETECTIONS, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.max_detections = tuple(image_size), max_detections

    def call(self, centers):
        _, height, width, channels = centers.shape
        num_classes = channels - 4
        heat = tf.sigmoid(centers[0, ..., :num_classes])
        peaks = tf.nn.max_pool2d(heat[None], PEAK_WINDOW, 1, "SAME")[0]
        heat = tf.where(tf.equal(heat, peaks), heat, tf.zeros_like(heat))
        scores, index = tf.math.top_k(tf.reshape(heat, [-1]), CANDIDATES)
        cell, classes = index // num_classes, index % num_classes
        geometry = tf.gather(tf.reshape(centers[0, ..., num_classes:], [-1, 4]), cell)
        rows, cols = tf.cast(cell // width, tf.float32), tf.cast(cell % width, tf.float32)
        center_x, center_y = (cols + geometry[:, 2]) * STRIDE, (rows + geometry[:, 3]) * STRIDE
        half_w, half_h = geometry[:, 0] * STRIDE / 2, geometry[:, 1] * STRIDE / 2
        image_h, image_w = float(self.image_size[0]), float(self.image_size[1])
        boxes = tf.stack(
            [
                (center_y - half_h) / image_h,
                (center_x - half_w) / image_w,
                (center_y + half_h) / image_h,
                (center_x + half_w) / image_w,
            ],
            axis=-1,
        )
        return suppressed(boxes, scores, classes, self.max_detections)


def detection_model(detector, image_size, postprocess=None):
    """`detector` (pixels -> centre maps, or what `postprocess(image_size)` reads) with decoding and NMS appended:
    dict of MediaPipe's four outputs."""
    pixels = keras.Input(detector.input_shape[1:], batch_size=1, name="pixels")
    layer = postprocess(image_size) if postprocess else DetectionPostprocess(image_size, name="postprocess")
    outputs = layer(detector(pixels))
    return keras.Model(pixels, outputs, name=f"{detector.name}_detector")
