"""How good generated images are, measured with a trained zoo classifier rather than eyeballed.

The Frechet distance compares the classifier's penultimate-layer features of real
and generated images (Heusel et al. 2017, "GANs trained by a two time-scale update
rule converge to a local Nash equilibrium"), with a digit classifier in place of
Inception as in TF-GAN's MNIST example. As is standard practice, many generated
images (5,000 by default) are compared with the real training images; the floor
is the distance of the real held-out images (validation and test splits, never
trained on) to the same training images, and the ratio compares the generator at
the floor's sample size, since the Frechet distance is biased upwards on small
samples. The kernel inception distance (Binkowski et al. 2018, "Demystifying MMD
GANs") is the unbiased squared MMD of a cubic polynomial kernel on the same
features, averaged over random subsets, with the 2.5-97.5 percentiles of the
subset estimates as its 95% interval. The classifier score is the Inception score
formula (Salimans et al. 2016) on that classifier; the class histogram counts the
judge's classes of the generated images (an unconditional GAN can draw some
classes far more often than others).
"""

import dataclasses

import keras
import numpy as np
import scipy.special

from zoo import evaluation
from zoo.pretrained import load_pretrained, pretrained_info
from zoo.pretrained.loading import HEAD

DEFAULT_CLASSIFIER = "convnet_mnist_5k"
NUM_IMAGES = 5000  # generated images measured against the training images
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000  # as in Binkowski et al. 2018 (smaller sets: subsets of their size)


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


def kernel_inception_distance(features_a, features_b, subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE, seed=0):
    """The kernel inception distance of two sets of features `(num, dim)`, over random subsets.

    Each subset estimate is the unbiased squared MMD with the kernel `(x.y / dim + 1)^3` between
    `subset_size` features of each set (at most the smaller set's size), drawn without replacement.

    Returns:
        A dict: `kid` (the mean of the subset estimates; 0 in expectation for one distribution),
        `kid_interval` ([2.5, 97.5] percentiles of the estimates), `kid_subsets`, `kid_subset_size`.
    """
    features_a, features_b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    size = min(subset_size, len(features_a), len(features_b))
    rng = np.random.default_rng(seed)
    estimates = [
        _unbiased_mmd2(
            features_a[rng.choice(len(features_a), size, replace=False)],
            features_b[rng.choice(len(features_b), size, replace=False)],
        )
        for _ in range(subsets)
    ]
    return dict(
        kid=float(np.mean(estimates)),
        kid_interval=[float(v) for v in np.percentile(estimates, [2.5, 97.5])],
        kid_subsets=subsets,
        kid_subset_size=size,
    )


def _unbiased_mmd2(x, y):
    """The unbiased squared MMD of the cubic polynomial kernel between equal-sized `x` and `y`."""
    dim, count = x.shape[1], len(x)
    k_xx, k_yy, k_xy = ((a @ b.T / dim + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (count * (count - 1))
    return float(within - 2 * k_xy.mean())


def class_histogram(logits, num_classes=None):
    """How many images the classifier assigns to each class, a list of `num_classes` counts."""
    logits = np.asarray(logits)
    return [int(c) for c in np.bincount(logits.argmax(1), minlength=num_classes or logits.shape[1])]


def asked_classes(num_images, num_classes, seed=0):
    """Balanced classes to ask a conditional generator for: each class as often as the others, shuffled."""
    return np.random.default_rng(seed).permutation(np.arange(num_images) % num_classes).astype("int32")


def evaluate_generator(
    model,
    train_images,
    held_out_images,
    classifier=DEFAULT_CLASSIFIER,
    num_images=NUM_IMAGES,
    seed=0,
    kid_subsets=KID_SUBSETS,
    kid_subset_size=KID_SUBSET_SIZE,
):
    """Measures a generator against the real images it learned from, with floors to compare.

    `num_images` generated images (balanced classes asked for, if conditional) against the
    training images: Frechet distance and kernel inception distance. Floors: the real held-out
    images against the same training images; the ratio divides the Frechet distance of as many
    generated images as held-out ones (the first of them) by that floor, so both carry the same
    small-sample bias. Uniform noise of that size shows the other end.

    Args:
        model: a `GAN` (or anything with `num_classes`, `noise(num, seed)` and
            `generate(noise, labels)` returning 0-255 pixels).
        train_images: the real 0-255 training pixels `(num, height, width, channels)`.
        held_out_images: real images never trained on (e.g. the validation and test splits).
        classifier: a pretrained entry name or a `keras.Model`, see `load_judge`.
        num_images: how many images to generate (tests pass a few hundred).
        seed: of the noise, the classes asked for, the uniform-noise images and the KID subsets.
        kid_subsets, kid_subset_size: see `kernel_inception_distance`.

    Returns:
        A dict: `frechet_distance` (`num_images` generated vs training), `frechet_distance_at_floor_size`,
        `frechet_floor` (held-out vs training), `frechet_ratio`, `frechet_noise`, `kid` and `kid_interval`,
        `kid_floor` and `kid_floor_interval`, `kid_subsets`, `kid_subset_size`, `classifier_score` and
        `classifier_score_real` (held-out), `class_histogram` (judge's classes of the generated images),
        `class_match` (conditional models only), `num_images`, `num_train_images`, `num_held_out_images`,
        `classifier` and `classifier_sha256`.
    """
    judge = load_judge(classifier)
    train, held_out = np.asarray(train_images, "float32"), np.asarray(held_out_images, "float32")
    asked = asked_classes(num_images, model.num_classes, seed) if model.num_classes else None
    generated = np.asarray(model.generate(model.noise(num_images, seed), asked), "float32")
    noise = np.random.default_rng(seed).uniform(0, 255, held_out.shape).astype("float32")
    real, _ = judge.features_and_logits(train)
    real_held_out, held_out_logits = judge.features_and_logits(held_out)
    fake, fake_logits = judge.features_and_logits(generated)
    result = dict(
        **_distances(fake, real, real_held_out, judge.features_and_logits(noise)[0]),
        **_kernel_distances(fake, real, real_held_out, kid_subsets, kid_subset_size, seed),
        classifier_score=classifier_score(fake_logits),
        classifier_score_real=classifier_score(held_out_logits),
        class_histogram=class_histogram(fake_logits),
        num_images=num_images,
        num_train_images=len(train),
        num_held_out_images=len(held_out),
        classifier=judge.name,
        classifier_sha256=judge.sha256,
    )
    if model.num_classes:
        result["class_match"] = class_match(fake_logits, asked)
    return result


def _distances(fake, real, real_held_out, noise):
    """Frechet distances to the training features `real`; the ratio at the held-out set's size."""
    at_floor_size, floor = frechet_distance(fake[: len(real_held_out)], real), frechet_distance(real_held_out, real)
    return dict(
        frechet_distance=frechet_distance(fake, real),
        frechet_distance_at_floor_size=at_floor_size,
        frechet_floor=floor,
        frechet_ratio=at_floor_size / floor,
        frechet_noise=frechet_distance(noise, real),
    )


def _kernel_distances(fake, real, real_held_out, subsets, subset_size, seed):
    """KID of the generated and of the held-out features against the training features."""
    kid = kernel_inception_distance(fake, real, subsets, subset_size, seed)
    floor = kernel_inception_distance(real_held_out, real, subsets, subset_size, seed)
    return dict(**kid, kid_floor=floor["kid"], kid_floor_interval=floor["kid_interval"])


def card_lines(test):
    """The model card's lines about a generator's quality measures `test` (`evaluate_generator`'s dict)."""
    count, held_out, train = test["num_images"], test["num_held_out_images"], test["num_train_images"]
    low, high = test["kid_interval"]
    floor_low, floor_high = test["kid_floor_interval"]
    histogram = test["class_histogram"]
    lines = [
        f"{count:,} generated images against the {train:,} real training images, judged by the classifier "
        f"`{test['classifier']}` (weights sha256 `{test['classifier_sha256']}`); floors: the {held_out:,} real "
        "held-out images (validation and test splits, never trained on) against the same training images:",
        "",
        f"- Frechet distance of its features **{test['frechet_distance']:.2f}** ({count:,} images); on {held_out:,} "
        f"generated images {test['frechet_distance_at_floor_size']:.2f}, **{test['frechet_ratio']:.1f}x** the floor "
        f"{test['frechet_floor']:.2f} of {held_out:,} real held-out images (the same sample sizes: the distance is "
        f"biased upwards on small samples); uniform noise: {test['frechet_noise']:.1f}",
        f"- kernel inception distance (unbiased, cubic polynomial kernel) **{test['kid']:.4f}** (95% interval of "
        f"{test['kid_subsets']} subsets of {test['kid_subset_size']:,}: {low:.4f} to {high:.4f}); floor "
        f"{test['kid_floor']:.4f} ({floor_low:.4f} to {floor_high:.4f}; 0 means the same distribution)",
        f"- classifier score {test['classifier_score']:.2f} (real held-out images: {test['classifier_score_real']:.2f};"
        " from 1 to the number of classes, higher when each image is clearly one class and all classes appear)",
        "- the judge's classes of the generated images: "
        + ", ".join(f"{c}: {100 * n / count:.1f}%" for c, n in enumerate(histogram))
        + f" (balanced would be {100 / len(histogram):.1f}% each)",
    ]
    if "class_match" in test:
        low, high = evaluation.wilson_interval(test["class_match"], count)
        lines.append(
            f"- class match **{test['class_match']:.3f}** (95% interval {low:.3f}-{high:.3f}): the share of images "
            "the judge assigns to the class asked for (every class asked for equally often)"
        )
    return lines
