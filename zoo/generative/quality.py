"""How good generated images are, measured with a trained zoo classifier rather than eyeballed.

The Frechet distance compares the classifier's penultimate-layer features of real
and generated images (Heusel et al. 2017, "GANs trained by a two time-scale update
rule converge to a local Nash equilibrium"), with a digit classifier in place of
Inception as in TF-GAN's MNIST example. The classifier score is the Inception
score formula (Salimans et al. 2016) on that classifier. Both come with their
floors: two halves of the real images (the best a generator can do with this many
images) and uniform noise.
"""

import dataclasses

import keras
import numpy as np
import scipy.special

from zoo.pretrained import load_pretrained, pretrained_info
from zoo.pretrained.loading import HEAD

DEFAULT_CLASSIFIER = "convnet_mnist_5k"


@dataclasses.dataclass
class Judge:
    """A classifier that judges images: `model` maps 0-255 pixels to `[features, logits]`.

    `name` and `sha256` identify it (the pretrained entry and its weights file; None
    for a model passed in directly), to be recorded beside the numbers it gives.
    """

    model: keras.Model
    name: str
    sha256: str = None

    def features_and_logits(self, images, batch_size=250):
        """Returns the penultimate features and the logits of `images` as float64 numpy arrays."""
        features, logits = self.model.predict(np.asarray(images, "float32"), batch_size=batch_size, verbose=0)
        return features.astype(np.float64), logits.astype(np.float64)


def load_judge(classifier=DEFAULT_CLASSIFIER):
    """Returns the `Judge` of a pretrained entry name or of a `keras.Model` with a `logits` layer."""
    if isinstance(classifier, keras.Model):
        model, name, sha256 = classifier, classifier.name, None
    else:
        info = pretrained_info(classifier)
        model, name, sha256 = load_pretrained(classifier), info["name"], info["sha256"]
    features = model.get_layer(HEAD).input
    return Judge(keras.Model(model.inputs, [features, model.outputs[0]]), name, sha256)


def frechet_distance(features_a, features_b):
    """The Frechet distance between Gaussians fitted to two sets of features `(num, dim)`.

    `|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))`; the trace of the root
    is the sum of the square roots of the eigenvalues of the symmetric
    `C_a^(1/2) C_b C_a^(1/2)`, which stays real and stable where `sqrtm` of the
    non-symmetric product can turn complex.
    """
    features_a, features_b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    root_a = _symmetric_root(cov_a)
    product = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


def _symmetric_root(matrix):
    """The square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def classifier_score(logits):
    """`exp(mean KL(p(y|x) || p(y)))`: 1 (one class, or no confident class) to num_classes."""
    logits = np.asarray(logits, np.float64)
    log_p = logits - scipy.special.logsumexp(logits, axis=1, keepdims=True)
    p = np.exp(log_p)
    log_marginal = np.log(p.mean(0) + 1e-12)
    return float(np.exp(np.mean(np.sum(p * (log_p - log_marginal), axis=1))))


def class_match(logits, asked_labels):
    """The share (0..1) of generated images that the classifier assigns to the class asked for."""
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(asked_labels)))


def evaluate_generator(model, images, labels, classifier=DEFAULT_CLASSIFIER, seed=0):
    """Measures a generator against real images (e.g. a test split), with floors to compare.

    The real images are split in halves A and B (seeded). The generator makes as
    many images as B (asking for B's labels if it is conditional), so the distance
    generated-to-A and the floors B-to-A and noise-to-A use equal set sizes.

    Args:
        model: a `GAN` (or anything with `num_classes`, `noise(num, seed)` and
            `generate(noise, labels)` returning 0-255 pixels).
        images: real 0-255 pixels `(num, height, width, channels)`.
        labels: their int labels.
        classifier: a pretrained entry name or a `keras.Model`, see `load_judge`.
        seed: of the split, the noise and the uniform-noise images.

    Returns:
        A dict: `frechet_distance`, `frechet_floor` (real vs real), `frechet_noise`
        (uniform noise vs real), `frechet_ratio` (distance / floor),
        `classifier_score` and `classifier_score_real`, `class_match` (conditional
        models only), `num_images`, `classifier` and `classifier_sha256`.
    """
    judge = load_judge(classifier)
    images, labels = np.asarray(images, "float32"), np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(images))
    half_a, half_b = order[: len(order) // 2], order[len(order) // 2 :]
    asked = labels[half_b] if model.num_classes else None
    generated = model.generate(model.noise(len(half_b), seed), asked)
    noise = np.random.default_rng(seed).uniform(0, 255, images[half_b].shape).astype("float32")
    real_a, _ = judge.features_and_logits(images[half_a])
    real_b, real_b_logits = judge.features_and_logits(images[half_b])
    fake, fake_logits = judge.features_and_logits(generated)
    distance, floor = frechet_distance(real_a, fake), frechet_distance(real_a, real_b)
    result = {
        "frechet_distance": distance,
        "frechet_floor": floor,
        "frechet_noise": frechet_distance(real_a, judge.features_and_logits(noise)[0]),
        "frechet_ratio": distance / floor,
        "classifier_score": classifier_score(fake_logits),
        "classifier_score_real": classifier_score(real_b_logits),
        "num_images": len(half_b),
        "classifier": judge.name,
        "classifier_sha256": judge.sha256,
    }
    if model.num_classes:
        result["class_match"] = class_match(fake_logits, asked)
    return result
