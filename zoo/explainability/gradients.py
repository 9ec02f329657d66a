"""Integrated Gradients and Grad-CAM as small functions over `tf.GradientTape`.

Integrated Gradients (Sundararajan et al. 2017): the attribution of input `x_i` is
`(x_i - b_i) * integral_0^1 d score(b + a (x - b)) / d x_i da`, here with the trapezoid
rule on `steps` intervals, so that attributions sum to `score(x) - score(b)` (completeness)
up to the quadrature error. Grad-CAM (Selvaraju et al. 2017): the ReLU of the last conv
layer's feature maps weighted by the spatial mean of the score's gradient on each map,
resized to the input.

Both read or replace one inner layer's output while the model runs: `recorded_output` and
`replaced_output` shadow that layer's `call` for the duration of a `with` block (the layer's
mask, computed from its inputs, is kept), so nested models (a text model's token classifier,
a keras.applications backbone) need no rebuilding.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf

DEFAULT_STEPS = 64
TOLERANCE = 0.009  # completeness within 1%, with room for float32 rounding (Sundararajan et al. advise 5%)
MAX_STEPS = 512  # deep ReLU nets (resnet20) may need more: see Explanation.completeness_error()
CHUNK = 129  # path points per batch
CONV_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


def trapezoid(steps):
    """`(alphas, weights)` of the trapezoid rule on [0, 1] with `steps` intervals."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1. Received: {steps}")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, np.float32)
    weights[[0, -1]] /= 2
    return alphas, weights


def integrated_gradients(score, inputs, baselines, steps=DEFAULT_STEPS, tolerance=TOLERANCE, max_steps=MAX_STEPS):
    """Integrated Gradients of one example.

    As Sundararajan et al. advise, the number of intervals doubles (from `steps`, up to `max_steps`)
    until the attributions sum to `score(input) - score(baseline)` within `tolerance` of that change.

    Args:
        score: `score(points)` -> `(batch,)` scores, for `points` a list with one batch of path points
            per input (points on the straight line from baseline to input).
        inputs, baselines: lists of float arrays of one example each (no batch axis).
        steps: intervals of the trapezoid rule to start with.

    Returns:
        `(attributions, score at the input, score at the baseline)`, attributions a list of
        arrays shaped like `inputs`.
    """
    inputs = [np.asarray(x, np.float32) for x in inputs]
    differences = [x - np.asarray(b, np.float32) for x, b in zip(inputs, baselines)]
    while True:
        averages, scores = _average_gradients(score, inputs, differences, steps)
        attributions = [d * a for d, a in zip(differences, averages)]
        change = scores[-1] - scores[0]
        total = sum(float(a.sum()) for a in attributions)
        if abs(total - change) <= tolerance * abs(change) or 2 * steps > max_steps:
            return attributions, float(scores[-1]), float(scores[0])
        steps *= 2


def _average_gradients(score, inputs, differences, steps):
    """The trapezoid-rule average of the score's gradients along the path, and the scores at its points."""
    alphas, weights = trapezoid(steps)
    sums, scores = [np.zeros_like(x) for x in inputs], []
    for start in range(0, steps + 1, CHUNK):
        chunk = slice(start, start + CHUNK)
        points = [
            tf.constant(x[None] - (1.0 - alphas[chunk].reshape((-1,) + (1,) * x.ndim)) * d[None])
            for x, d in zip(inputs, differences)
        ]
        with tf.GradientTape() as tape:
            tape.watch(points)
            values = score(points)
        grads = tape.gradient(values, points, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        for total, gradient in zip(sums, grads):
            total += np.tensordot(weights[chunk], np.asarray(gradient, np.float32), axes=1)
        scores.append(np.asarray(values, np.float64))
    return sums, np.concatenate(scores)


def target_scores(outputs, targets):
    """`outputs[i, targets[i]]` of `(batch, classes)` logits, or the column `targets` if it is one int: `(batch,)`."""
    outputs = tf.cast(outputs, tf.float32)
    if np.ndim(targets) == 0:
        return outputs[:, int(targets)]
    return tf.gather(outputs, tf.reshape(tf.cast(targets, tf.int32), (-1, 1)), batch_dims=1)[:, 0]


@contextlib.contextmanager
def replaced_output(layer, value):
    """Within the block, `layer` returns `value` whatever its inputs (its mask still comes from them)."""
    layer.call = lambda *args, **kwargs: value  # an instance attribute shadows the class's method
    try:
        yield
    finally:
        del layer.call


@contextlib.contextmanager
def recorded_output(layer, tape, outputs):
    """Within the block, every output of `layer` is watched by `tape` and appended to `outputs`."""
    original = layer.call

    def recording(*args, **kwargs):
        output = original(*args, **kwargs)
        tape.watch(output)
        outputs.append(output)
        return output

    layer.call = recording
    try:
        yield
    finally:
        del layer.call


def all_layers(model):
    """Every layer of `model`, nested models' layers included, in the order they were added."""
    return list(model._flatten_layers(include_self=False, recursive=True))


def last_conv_layer(model):
    """The last 2-D convolution of `model` (searching nested models), or None."""
    convolutions = [layer for layer in all_layers(model) if isinstance(layer, CONV_LAYERS)]
    return convolutions[-1] if convolutions else None


def grad_cam(model, images, targets, layer):
    """Grad-CAM heatmaps `(batch, height, width)` (>= 0, in score units) of `targets` on `images`."""
    maps = []
    with tf.GradientTape() as tape:
        with recorded_output(layer, tape, maps):
            scores = target_scores(model(images, training=False), targets)
    features = maps[-1]
    gradients = tape.gradient(scores, features)
    weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, tf.float32), axis=-1, keepdims=True))
    return tf.image.resize(cam, tf.shape(images)[1:3], method="bilinear")[..., 0].numpy(), scores.numpy()
