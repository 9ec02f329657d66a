"""Adversarial training (Madry et al. 2018): every training batch is replaced by its FGSM or PGD version,
crafted against the model's current weights, before the usual Keras train step runs on it.

`install(model, settings, seed)` wraps the compiled model's own `train_step` (loss, optimizer, metrics,
loss scaling all stay Keras's), so the saved `model.keras` is the plain model. The PGD start is drawn
statelessly from `(seed, optimizer step)`: a resumed run draws what an uninterrupted one would.
"""

import tensorflow as tf

from zoo.errors import ZooError
from zoo.explainability import attacks

METHODS = ("none", *attacks.ATTACKS)
DEFAULT_STEPS = 7  # Madry et al.'s CIFAR-10 training attack; 40 on MNIST, at six times the cost


def settings(method, epsilon, steps):
    """The run's `adversarial` entry (None without adversarial training); `ZooError` for bad values."""
    if method in (None, "none"):
        return None
    if method not in attacks.ATTACKS:
        raise ZooError(f"--adversarial is one of {', '.join(METHODS)}. Received: {method!r}")
    if not 0 < epsilon <= attacks.PIXEL_MAX:
        raise ZooError(f"--adversarial_epsilon is a budget in pixels, in (0, 255] (e.g. 8). Received: {epsilon}")
    if steps < 1:
        raise ZooError(f"--adversarial_steps must be at least 1. Received: {steps}")
    return dict(method=method, epsilon=float(epsilon), steps=int(steps) if method == "pgd" else 1)


def install(model, adversarial, seed=0):
    """Makes the compiled `model` train on adversarial batches as `adversarial` (from `settings`) says."""
    if not adversarial:
        return model
    keras_train_step = type(model).train_step.__get__(model)
    method, epsilon, steps = adversarial["method"], adversarial["epsilon"], adversarial["steps"]

    def train_step(data):
        x, y, *rest = data if isinstance(data, tuple) else (data,)
        labels = tf.argmax(y, axis=-1) if y.shape.rank == 2 else y
        if method == "fgsm":
            crafted = attacks.fgsm(model, x, labels, epsilon)
        else:
            step = tf.cast(model.optimizer.iterations, tf.int64)
            crafted = attacks.pgd(model, x, labels, epsilon, steps, seed=tf.stack([tf.constant(seed, tf.int64), step]))
        return keras_train_step((tf.stop_gradient(crafted), y, *rest))

    model.train_step = train_step  # an instance attribute: Keras builds its train function from it
    return model
