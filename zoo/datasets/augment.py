"""Random affine augmentation for batches of images, reproducible from one seed."""

import math

import tensorflow as tf


def random_affine(images, seed, rotation=10.0, zoom=0.1, shift=0.1, flip=False):
    """Rotates, zooms, shifts (and optionally flips) each image of a batch.

    Uses stateless random ops, so the result depends only on `seed`.

    Args:
        images: float tensor `(batch, height, width, channels)`.
        seed: int tensor of shape `(2,)`.
        rotation: maximum rotation in degrees.
        zoom: maximum relative change of scale.
        shift: maximum shift as a fraction of the image size.
        flip: whether to flip half of the images left-right (never for digits).
    """
    batch = tf.shape(images)[0]
    height = tf.cast(tf.shape(images)[1], tf.float32)
    width = tf.cast(tf.shape(images)[2], tf.float32)
    seeds = tf.random.experimental.stateless_split(seed, 5)

    def uniform(i, limit):
        return tf.random.stateless_uniform([batch], seeds[i], -limit, limit)

    angle = uniform(0, rotation * math.pi / 180)
    scale = 1.0 + uniform(1, zoom)
    dx, dy = uniform(2, shift) * width, uniform(3, shift) * height
    cx, cy = (width - 1) / 2, (height - 1) / 2
    # Maps each output pixel to the input pixel it samples: the inverse of
    # "rotate and scale about the centre, then shift".
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    a0, a1, b0, b1 = cos, sin, -sin, cos
    a2 = cx - a0 * (cx + dx) - a1 * (cy + dy)
    b2 = cy - b0 * (cx + dx) - b1 * (cy + dy)
    if flip:
        mirror = tf.random.stateless_uniform([batch], seeds[4]) < 0.5
        a2 = tf.where(mirror, a2 + a0 * (width - 1), a2)
        a0 = tf.where(mirror, -a0, a0)
        b2 = tf.where(mirror, b2 + b0 * (width - 1), b2)
        b0 = tf.where(mirror, -b0, b0)
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
