"""`retinanet`: keras-hub's `RetinaNetObjectDetector` on a small ResNet built from scratch (Lin et al. 2017).

A 4-stack ResNet (`keras_hub.models.ResNetBackbone`, one basic block a stack, 64-128 filters: keras-hub
wants 64 in the first) gives pyramid features at strides 8-32;
keras-hub's `RetinaNetBackbone` adds its feature pyramid (256 channels) and `RetinaNetObjectDetector` its
shared box and class heads (group-normalised) over `zoo.detection.anchors.ANCHORS` (3 sizes x 3 aspect ratios
per cell, 8-50 pixels:
keras-hub's default anchor size 4 starts at 32 pixels, larger than mnist_scenes' smallest digits). The model
returns `zoo.detection.anchors.AnchorOutputs`, which names the box coder that trains and decodes it. No
presets: nothing downloads here. Raw pixels 0-255 in, rescaled inside.
"""

import math

import keras

from zoo.detection.anchors import ANCHORS, AnchorOutputs, anchor_generator
from zoo.registry import register_model
from zoo.vision.segmentation import check_divisible
from zoo.vision.stem import pixel_input

RECIPE = dict(
    epochs=5,  # on mnist_scenes' 15,000 scenes (2,345 steps); 10 epochs of 3,000 overfit from epoch 5 on
    batch_size=32,
    optimizer="adam",
    learning_rate=1e-3,
    lr_schedule="cosine",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)
PRIOR = 0.01  # RetinaNet's prior probability of the class logits at the start


def _detector(input_shape, num_classes, stack_filters, head_layers, head_norm):
    import keras_hub

    resnet = keras_hub.models.ResNetBackbone(
        input_conv_filters=[stack_filters[0]],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=list(stack_filters),
        stackwise_num_blocks=[1, 1, 1, 1],
        stackwise_num_strides=[1, 2, 2, 2],
        block_type="basic_block",
        image_shape=input_shape,
        name="resnet",
    )
    backbone = keras_hub.models.RetinaNetBackbone(
        image_encoder=resnet,
        min_level=ANCHORS["min_level"],
        max_level=ANCHORS["max_level"],
        use_p5=False,
        image_shape=input_shape,
        name="retinanet_backbone",
    )
    detector = keras_hub.models.RetinaNetObjectDetector(
        backbone=backbone,
        num_classes=num_classes,
        bounding_box_format="xyxy",
        anchor_generator=anchor_generator(ANCHORS),
        pre_logits_num_conv_layers=head_layers,
        use_prediction_head_norm=head_norm,
        name="retinanet_detector",
        compile=False,  # its default compile makes an optimizer, which zoo's memory check (a StatelessScope) refuses
    )
    # keras-hub 0.32 puts the prior-probability bias on the box head; RetinaNet (section 4.1) puts it on the classes.
    detector.box_head.prediction_layer.bias.assign(keras.ops.zeros_like(detector.box_head.prediction_layer.bias))
    prior = keras.ops.full_like(detector.classification_head.prediction_layer.bias, -math.log((1 - PRIOR) / PRIOR))
    detector.classification_head.prediction_layer.bias.assign(prior)
    return detector


@register_model(
    task="object_detection",
    input_shape=(64, 64, 1),
    recipe=RECIPE,
    paper="Lin et al. 2017, Focal Loss for Dense Object Detection (RetinaNet), arXiv:1708.02002; "
    "keras-hub's RetinaNetObjectDetector",
    min_input_size=32,
)
def retinanet(num_classes=10, input_shape=(64, 64, 1), stack_filters=(64, 64, 128, 128), head_layers=2, head_norm=True):
    """keras-hub RetinaNet: small scratch ResNet + feature pyramid (strides 8-32), focal loss over 9 anchors a cell.

    Test mAP@0.5 0.48 on mnist_scenes after its 10 epochs (centernet: 0.90): it overfits (README). `head_norm`:
    group norm in the box and class heads (keras-hub's `use_prediction_head_norm`); without it Adam at 1e-3
    blows the first steps' loss up and the detector never learns.
    """
    check_divisible(input_shape, 32, "retinanet")  # pyramid levels up to stride 32, added back top-down
    pixels, x = pixel_input(input_shape, min_size=32)
    detector = _detector(tuple(input_shape), num_classes, stack_filters, head_layers, head_norm)
    outputs = AnchorOutputs(input_shape[:2], num_classes, ANCHORS, name="anchors")(detector(x))
    return keras.Model(pixels, outputs, name="retinanet")
