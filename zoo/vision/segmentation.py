"""Semantic-segmentation models: raw 0-255 pixels in, per-pixel class logits `(height, width, classes)` out.

- `unet`: a small U-Net (Ronneberger, Fischer & Brox 2015): an encoder of two 3x3 convolutions per level,
  each followed by 2x2 max pooling; a decoder of 2x2 transposed convolutions whose outputs are
  concatenated with the encoder's features of the same size ("skip connections"), then two 3x3
  convolutions; a 1x1 convolution to the classes. Same-padded (the paper crops), with batch norm.
- `deeplab_v3`: keras-hub's `DeepLabV3ImageSegmenter` (DeepLabV3+, Chen et al. 2018) over a tiny
  keras-hub `ResNetBackbone` (3 stages of one basic block, 64-128 filters): atrous spatial pyramid
  pooling on the stride-16 features, upsampled and joined with the stride-4 features.
"""

import keras

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.vision.stem import pixel_input

TASK = "image_segmentation"
_SCENES = (64, 64, 1)
_RECIPE = dict(
    epochs=15,
    batch_size=32,
    optimizer="adam",
    learning_rate=3e-3,
    lr_schedule="cosine",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,  # the scenes are random already; masks would need the same warps as the pixels
)
UNET_FILTERS = (12, 24, 48, 96)


def check_divisible(input_shape, factor, name):
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ZooError(
            f"{name} needs a height and width divisible by {factor}. Received: input_shape={tuple(input_shape)}: "
            f"pass --image_size with multiples of {factor}."
        )


def _conv_block(x, filters, name):
    for index in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{index}")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_norm{index}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{index}")(x)
    return x


@register_model(
    task=TASK,
    input_shape=_SCENES,
    recipe=_RECIPE,
    paper="Ronneberger, Fischer & Brox 2015, U-Net",
    min_input_size=8,
)
def unet(num_classes=11, input_shape=_SCENES, filters=UNET_FILTERS):
    """A small U-Net: 4 levels of two 3x3 convolutions (12-96 filters), skip connections, logits per pixel."""
    check_divisible(input_shape, 2 ** (len(filters) - 1), "unet")
    inputs, x = pixel_input(input_shape, min_size=2 ** (len(filters) - 1))
    skips = []
    for level, width in enumerate(filters[:-1], start=1):
        x = _conv_block(x, width, f"down{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = _conv_block(x, filters[-1], "bottom")
    for level, (width, skip) in reversed(list(enumerate(zip(filters[:-1], skips), start=1))):
        x = keras.layers.Conv2DTranspose(width, 2, strides=2, name=f"up{level}_transpose")(x)
        x = keras.layers.Concatenate(name=f"up{level}_concat")([x, skip])
        x = _conv_block(x, width, f"up{level}")
    outputs = keras.layers.Conv2D(num_classes, 1, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="unet")


@register_model(
    task=TASK,
    input_shape=_SCENES,
    recipe=_RECIPE,
    paper="Chen et al. 2018, DeepLabV3+ (keras-hub DeepLabV3ImageSegmenter)",
    min_input_size=16,
)
def deeplab_v3(num_classes=11, input_shape=_SCENES, dilation_rates=(1, 2, 3)):
    """keras-hub's DeepLabV3ImageSegmenter over a tiny ResNet (64-128 filters); ASPP at stride 16."""
    import keras_hub

    check_divisible(input_shape, 16, "deeplab_v3")
    inputs, x = pixel_input(input_shape, min_size=16)
    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 64, 128],
        stackwise_num_blocks=[1, 1, 1],
        stackwise_num_strides=[1, 2, 2],
        block_type="basic_block",
        image_shape=tuple(input_shape),
        name="resnet_encoder",
    )
    backbone = keras_hub.models.DeepLabV3Backbone(
        image_encoder=encoder,
        spatial_pyramid_pooling_key="P4",
        upsampling_size=4,
        dilation_rates=list(dilation_rates),
        low_level_feature_key="P2",
        image_shape=tuple(input_shape),
        name="deeplab_backbone",
    )
    segmenter = keras_hub.models.DeepLabV3ImageSegmenter(backbone, num_classes, name="deeplab_v3_segmenter")
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(segmenter(x))
    return keras.Model(inputs, outputs, name="deeplab_v3")
