"""Adversarial robustness of image classifiers: FGSM and PGD under an L-infinity budget in pixel units.

zoo models take raw 0-255 pixels, so a budget `epsilon` is in pixels: 8 means every pixel may move by
at most 8 of 255. FGSM (Goodfellow et al. 2015) takes one step of `epsilon` along the sign of the loss
gradient; PGD (Madry et al. 2018) starts at a uniformly random point of the budget's box and takes
`steps` signed-gradient steps of `2.5 * epsilon / steps`, projecting back onto the box and onto 0-255
after each. Both attack the cross-entropy of the true label and run as TensorFlow ops (usable inside a
`train_step`); the random start is stateless and seeded, so an attack is reproducible.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError
from zoo.evaluation import wilson_interval

PIXEL_MAX = 255.0
PGD_STEPS = 20
BUDGETS = (8, 25, 51)  # of 255: about 0.03, 0.1 and 0.2 of the pixel range
ATTACKS = ("fgsm", "pgd")


def loss_gradient(model, images, labels):
    """The gradient of the cross-entropy of `labels` with respect to `images` (float32)."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = tf.cast(model(images, training=False), tf.float32)
        loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return tape.gradient(loss, images)


def fgsm(model, images, labels, epsilon):
    """Fast Gradient Sign Method: `clip(x + epsilon * sign(gradient), 0, 255)`."""
    images = tf.convert_to_tensor(images, tf.float32)
    step = epsilon * tf.sign(loss_gradient(model, images, labels))
    return tf.clip_by_value(images + step, 0.0, PIXEL_MAX)


def pgd(model, images, labels, epsilon, steps=PGD_STEPS, step_size=None, seed=(0, 0)):
    """Projected Gradient Descent from a seeded random start inside the L-infinity ball of `epsilon`."""
    images = tf.convert_to_tensor(images, tf.float32)
    step_size = 2.5 * epsilon / steps if step_size is None else step_size
    low, high = tf.maximum(images - epsilon, 0.0), tf.minimum(images + epsilon, PIXEL_MAX)
    start = tf.random.stateless_uniform(tf.shape(images), seed=seed, minval=-epsilon, maxval=epsilon)
    adversarial = tf.clip_by_value(images + start, low, high)
    for _ in range(steps):
        gradient = loss_gradient(model, adversarial, labels)
        adversarial = tf.clip_by_value(adversarial + step_size * tf.sign(gradient), low, high)
    return adversarial


def attack(model, images, labels, epsilon, method="pgd", batch_size=250, seed=0, steps=PGD_STEPS):
    """Adversarial versions of `images` (numpy float32, 0-255), crafted in batches; `epsilon` 0 returns them."""
    if method not in ATTACKS:
        raise ZooError(f"attack is one of {', '.join(ATTACKS)}. Received: {method!r}")
    if not 0 <= epsilon <= PIXEL_MAX:
        raise ZooError(f"epsilon is a budget in pixels, 0-255 (e.g. 8 for 8/255). Received: {epsilon}")
    images = np.asarray(images, np.float32)
    if epsilon == 0:
        return images
    craft = tf.function(
        lambda x, y, s: fgsm(model, x, y, epsilon) if method == "fgsm" else pgd(model, x, y, epsilon, steps, seed=s)
    )
    batches = []
    for index, start in enumerate(range(0, len(images), batch_size)):
        chunk = slice(start, start + batch_size)
        labels_ = tf.constant(np.asarray(labels[chunk], np.int32))
        batches.append(craft(tf.constant(images[chunk]), labels_, tf.constant([seed, index])).numpy())
    return np.concatenate(batches)


def accuracy(predictions_right):
    """`{accuracy, interval (95% Wilson), examples}` of a boolean array of right answers."""
    right = np.asarray(predictions_right, bool)
    value = float(right.mean()) if len(right) else 0.0
    return dict(accuracy=value, interval=list(wilson_interval(value, len(right))), examples=int(len(right)))


def predict_classes(model, images, batch_size=250):
    return np.concatenate(
        [
            np.asarray(model(images[i : i + batch_size], training=False)).argmax(-1)
            for i in range(0, len(images), batch_size)
        ]
    )


def robust_accuracy(model, images, labels, budgets=BUDGETS, method="pgd", seed=0, steps=PGD_STEPS):
    """Accuracy on the clean images and under the attack at each budget (pixels of 255), with 95% intervals.

    Returns `{budget: {accuracy, interval, examples}}`, budget 0 being the clean images.
    """
    labels = np.asarray(labels)
    results = {}
    for epsilon in (0, *budgets):
        adversarial = attack(model, images, labels, epsilon, method, seed=seed, steps=steps)
        results[epsilon] = accuracy(predict_classes(model, adversarial) == labels)
    return results
