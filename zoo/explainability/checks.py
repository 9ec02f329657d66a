"""How explanations are checked in the literature: faithfulness by deletion, and the randomization test.

Deletion (Samek et al. 2017; Hooker et al. 2019 remove and compare with random removal): blacking out
the pixels an explanation ranks highest should hurt accuracy more than blacking out as many random
pixels. Randomization (Adebayo et al. 2018): an explanation that does not change when the model's
weights are re-initialized explains the input, not the model; its Spearman rank correlation with the
trained model's should be low.
"""

import keras
import numpy as np
from scipy import stats

from zoo.explainability import attacks
from zoo.explainability.explainers import input_kind, text_parts
from zoo.tasks.classification import paired_difference_interval


def pixel_scores(attributions):
    """Per-pixel scores `(n, height, width)`: Grad-CAM maps as they are, Integrated Gradients summed over channels."""
    attributions = np.asarray(attributions, np.float64)
    return attributions.sum(axis=-1) if attributions.ndim == 4 else attributions


def delete_pixels(images, scores, fraction=0.1, seed=0):
    """`(images with their top `fraction` of pixels by `scores` set to 0, images with as many random ones at 0)`."""
    images = np.asarray(images, np.float32)
    count, (height, width) = len(images), images.shape[1:3]
    k = int(round(fraction * height * width))
    top = np.argsort(-pixel_scores(scores).reshape(count, -1), axis=1, kind="stable")[:, :k]
    rng = np.random.default_rng(seed)
    random = np.stack([rng.permutation(height * width)[:k] for _ in range(count)])
    return tuple(_blacked_out(images, chosen) for chosen in (top, random))


def _blacked_out(images, chosen):
    mask = np.ones(images.shape[:3], bool).reshape(len(images), -1)
    np.put_along_axis(mask, chosen, False, axis=1)
    return images * mask.reshape(images.shape[:3])[..., None]


def deletion_test(model, images, labels, attributions, fraction=0.1, seed=0):
    """Accuracy (95% Wilson) after deleting the most-attributed and random pixels, and the paired 95%
    interval of (random - most-attributed): above 0 means the explanation found pixels that matter."""
    labels = np.asarray(labels)
    top, random = delete_pixels(images, attributions, fraction, seed)
    right_top = attacks.predict_classes(model, top) == labels
    right_random = attacks.predict_classes(model, random) == labels
    return dict(
        most_attributed=attacks.accuracy(right_top),
        random=attacks.accuracy(right_random),
        difference=float(right_random.mean() - right_top.mean()),
        difference_interval=list(paired_difference_interval(right_random, right_top)),
    )


def randomized_model(model, seed=0):
    """A copy of `model` with every weight re-initialized (a text model keeps its vocabulary)."""
    keras.utils.set_random_seed(seed)
    if input_kind(model) != "text":
        return keras.models.clone_model(model)
    vectorize, token_classifier, _ = text_parts(model)
    text = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(text, keras.models.clone_model(token_classifier)(vectorize(text)), name=f"{model.name}_random")


def rank_correlation(first, second):
    """Spearman rank correlation of two attribution arrays of one example (flattened)."""
    correlation = stats.spearmanr(np.ravel(first), np.ravel(second))[0]
    return 0.0 if np.isnan(correlation) else float(correlation)
