"""Anchor boxes (RetinaNet, Lin et al. 2017, "Focal Loss for Dense Object Detection", arXiv:1708.02002).

A detector's output is one float32 tensor `(batch, anchors, 4 + C)`: per anchor of keras-hub's `AnchorGenerator`
(levels `min_level`..`max_level`, `num_scales` sizes times the aspect ratios per cell), the box as keras-hub's
`center_xywh` deltas from the anchor, then C class logits. Training reads the task's labels (the dense centre
targets of `zoo.detection.points`) back into boxes, matches them to anchors with keras-hub's
`RetinaNetLabelEncoder` (IoU >= 0.5 positive, < 0.4 background, every box forced onto its best anchor), and
takes keras-hub's RetinaNet loss: sigmoid focal loss on the classes plus Huber on the deltas of positive anchors,
normalised by the image's positive anchors. `AnchorPostprocess` decodes the best anchors and runs NMS with builtin
TFLite operators only, returning MediaPipe's four outputs as `zoo.detection.postprocess` does.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo.detection import points
from zoo.detection.postprocess import CANDIDATES, MAX_DETECTIONS, suppressed

ANCHORS = dict(min_level=3, max_level=5, num_scales=3, aspect_ratios=(0.5, 1.0, 2.0), anchor_size=1.0)
# The deltas are divided by these before the loss (keras-cv's RetinaNet, Detectron's box coder weights 10, 10, 5, 5):
# keras-hub's default of ones leaves centre deltas of about 0.1 whose Huber loss is too weak to train the boxes.
BOX_VARIANCE = (0.1, 0.1, 0.2, 0.2)
MAX_DELTA = 4.0  # log-size deltas are clipped here before exp (a box at most e^4 = 55x its anchor)
# Operator types an int8 file keeps float32: the decoding and NMS (as for centre maps, by the same reasoning).
INT8_FLOAT_OPERATORS = (
    "LOGISTIC", "REDUCE_MAX", "ARG_MAX", "TOPK_V2", "GATHER", "STRIDED_SLICE", "PACK", "RESHAPE", "MUL",
    "ADD", "SUB", "EXP", "MINIMUM", "CONCATENATION", "NON_MAX_SUPPRESSION_V5",
)  # fmt: skip


def anchor_generator(anchors):
    from keras_hub.layers import AnchorGenerator

    return AnchorGenerator("xyxy", **{**anchors, "aspect_ratios": list(anchors["aspect_ratios"])})


def anchor_boxes(image_size, anchors):
    """`(anchors, 4)` float32 pixel `[x1, y1, x2, y2]` of keras-hub's `AnchorGenerator`, in the model's order."""
    levels = anchor_generator(anchors)(np.zeros((1, *image_size, 1), np.float32))
    return np.concatenate([np.asarray(levels[name]) for name in sorted(levels)]).astype(np.float32)


@keras.saving.register_keras_serializable(package="zoo")
class AnchorOutputs(keras.layers.Layer):
    """A RetinaNet's `{bbox_regression, cls_logits}` as one `(batch, anchors, 4 + C)` tensor; it names the box
    coder (`box_coder()`) that trains and decodes it."""

    def __init__(self, image_size, num_classes, anchors=None, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.num_classes = tuple(image_size), int(num_classes)
        self.anchors = dict(anchors or ANCHORS)

    def call(self, outputs):
        boxes = keras.ops.cast(outputs["bbox_regression"], "float32")
        return keras.ops.concatenate([boxes, keras.ops.cast(outputs["cls_logits"], "float32")], -1)

    def box_coder(self):
        return AnchorCoder(self.image_size, self.num_classes, self.anchors)

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_classes": self.num_classes,
                "anchors": self.anchors}  # fmt: skip


@keras.saving.register_keras_serializable(package="zoo")
class AnchorLoss(keras.losses.Loss):
    """keras-hub's RetinaNet loss per image, on the task's centre targets (read back into boxes)."""

    def __init__(self, image_size, num_classes, anchors=None, name="anchor_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        from keras_hub.src.models.retinanet.retinanet_label_encoder import RetinaNetLabelEncoder

        self.image_size, self.num_classes = tuple(image_size), int(num_classes)
        self.anchors = dict(anchors or ANCHORS)
        self.encoder = RetinaNetLabelEncoder(
            anchor_generator(self.anchors),
            bounding_box_format="xyxy",
            encoding_format="center_xywh",
            box_variance=list(BOX_VARIANCE),
            box_matcher_force_match_for_each_col=True,  # small digits match no anchor at IoU 0.5
        )

    def call(self, y_true, y_pred):
        ops = keras.ops
        boxes, classes = points.boxes_of_targets(y_true, self.num_classes)
        shape_only = ops.zeros((ops.shape(y_true)[0], *self.image_size, 1))  # the encoder reads its shape
        box_targets, class_targets = self.encoder(shape_only, boxes, classes)
        positive = ops.cast(class_targets > -1.0, "float32")
        count = ops.maximum(ops.sum(positive, axis=1), 1.0)
        # As the paper (and Detectron): Huber and focal loss summed over an anchor's 4 deltas and C classes
        # (keras-hub's compute_loss averages them, which weakens the classes 10-fold against the boxes).
        box_loss = ops.sum(keras.losses.huber(box_targets, y_pred[..., :4]) * positive, 1) * 4.0
        labels = ops.one_hot(ops.cast(ops.maximum(class_targets, 0.0), "int32"), self.num_classes) * positive[..., None]
        focal = keras.losses.binary_focal_crossentropy(labels, y_pred[..., 4:], from_logits=True)
        class_weight = ops.cast(class_targets > -2.0, "float32")  # -2: ignored (IoU 0.4-0.5)
        class_loss = ops.sum(focal * class_weight, 1) * self.num_classes
        return (box_loss + class_loss) / count

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_classes": self.num_classes,
                "anchors": self.anchors}  # fmt: skip


class AnchorPostprocess(keras.layers.Layer):
    """Anchor outputs `(1, anchors, 4 + C)` to MediaPipe's four detection outputs (batch of one)."""

    def __init__(self, image_size, anchors=None, max_detections=MAX_DETECTIONS, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.max_detections = tuple(image_size), max_detections
        corners = anchor_boxes(self.image_size, dict(anchors or ANCHORS))
        self.centres = (corners[:, :2] + corners[:, 2:]) / 2
        self.sides = np.maximum(corners[:, 2:] - corners[:, :2], 1e-3)

    def call(self, outputs):
        deltas, logits = outputs[0, :, :4] * np.array(BOX_VARIANCE, np.float32), outputs[0, :, 4:]
        scores = tf.sigmoid(tf.reduce_max(logits, axis=-1))  # the best class per anchor
        classes = tf.argmax(logits, axis=-1, output_type=tf.int32)  # ARG_MAX (keras.ops.argmax: Flex)
        best, index = tf.math.top_k(scores, min(CANDIDATES, len(self.sides)))
        deltas, classes = tf.gather(deltas, index), tf.gather(classes, index)
        centres, sides = tf.gather(self.centres, index), tf.gather(self.sides, index)
        centre = centres + deltas[:, :2] * sides
        half = sides * tf.exp(tf.minimum(deltas[:, 2:], MAX_DELTA)) / 2
        image_h, image_w = float(self.image_size[0]), float(self.image_size[1])
        (x, y), (half_w, half_h) = tf.unstack(centre, axis=-1), tf.unstack(half, axis=-1)
        boxes = tf.stack([(y - half_h) / image_h, (x - half_w) / image_w, (y + half_h) / image_h,
                          (x + half_w) / image_w], axis=-1)  # fmt: skip
        return suppressed(boxes, best, classes, self.max_detections)


class AnchorCoder:
    """How an anchor detector is trained, decoded and post-processed in its file (`zoo.detection.coders`)."""

    int8_float_operators = INT8_FLOAT_OPERATORS

    def __init__(self, image_size, num_classes, anchors=None):
        self.image_size, self.num_classes = tuple(image_size), num_classes
        self.anchors = dict(anchors or ANCHORS)
        self.key = ("anchors", self.image_size, tuple((k, str(v)) for k, v in sorted(self.anchors.items())))

    def loss(self):
        return AnchorLoss(self.image_size, self.num_classes, self.anchors)

    def postprocess(self, image_size):
        return AnchorPostprocess(image_size, self.anchors, name="postprocess")
