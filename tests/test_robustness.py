"""FGSM and PGD under an L-infinity budget in pixels, and the deletion check of explanations."""

import keras
import numpy as np
import pytest

import zoo
from zoo.explainability import attacks, checks


@pytest.fixture(scope="module")
def mnist():
    splits = zoo.get_task("image_classification").load_data("mnist_5k", seed=0)
    images, labels = next(iter(splits.test.batch(100)))
    return zoo.create_model("cnn", pretrained=True), images.numpy(), labels.numpy()


@pytest.mark.slow
def test_attacks_stay_within_the_budget_and_the_pixel_range(mnist):
    model, images, labels = mnist
    for method in attacks.ATTACKS:
        adversarial = attacks.attack(model, images[:20], labels[:20], 8, method)
        assert np.abs(adversarial - images[:20]).max() <= 8 + 1e-4
        assert adversarial.min() >= 0 and adversarial.max() <= 255
        assert np.abs(adversarial - images[:20]).max() >= 8 - 1e-4  # it does move pixels
    first, again = (attacks.attack(model, images[:20], labels[:20], 8, "pgd", seed=3) for _ in range(2))
    other = attacks.attack(model, images[:20], labels[:20], 8, "pgd", seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert np.array_equal(attacks.attack(model, images[:5], labels[:5], 0), images[:5])


def test_fgsm_moves_a_linear_model_by_exactly_its_worst_case():
    """For logits W x + b, the worst change of the margin within an L-infinity ball of epsilon is
    epsilon * ||w_true - w_other||_1 (Goodfellow et al. 2015), which FGSM reaches in one step."""
    keras.utils.set_random_seed(0)
    pixels = keras.Input((4, 4, 1))
    model = keras.Model(pixels, keras.layers.Dense(2)(keras.layers.Flatten()(pixels)))
    images = np.random.default_rng(0).uniform(100, 150, (6, 4, 4, 1)).astype(np.float32)
    labels = np.zeros(6, np.int64)
    kernel = np.asarray(model.layers[-1].kernel)
    margin = lambda x: np.asarray(model(x)) @ np.array([1.0, -1.0])  # noqa: E731
    moved = margin(images) - margin(attacks.attack(model, images, labels, 8, "fgsm"))
    np.testing.assert_allclose(moved, 8 * np.abs(kernel[:, 0] - kernel[:, 1]).sum(), rtol=1e-4)


@pytest.mark.slow
def test_robust_accuracy_falls_with_the_budget_and_pgd_is_stronger(mnist):
    model, images, labels = mnist
    fgsm = attacks.robust_accuracy(model, images, labels, method="fgsm")
    pgd = attacks.robust_accuracy(model, images, labels, method="pgd", steps=10)
    assert list(pgd) == [0, 8, 25, 51] and pgd[0] == fgsm[0] and pgd[0]["accuracy"] >= 0.95
    for results in (fgsm, pgd):
        accuracies = [results[budget]["accuracy"] for budget in results]
        assert accuracies == sorted(accuracies, reverse=True) and accuracies[-1] < 0.2
        low, high = results[8]["interval"]
        assert low <= results[8]["accuracy"] <= high and results[8]["examples"] == 100
    assert all(pgd[budget]["accuracy"] <= fgsm[budget]["accuracy"] for budget in attacks.BUDGETS)
    assert pgd[25]["accuracy"] < 0.1


@pytest.mark.slow
def test_deleting_the_most_attributed_pixels_hurts_more_than_random_ones(mnist):
    model, images, labels = mnist
    images, labels = images[:40], labels[:40]
    scores = np.zeros((2, 3, 3))
    scores[:, 1, 2], scores[:, 0, 0] = 5, 4
    top, random = checks.delete_pixels(np.full((2, 3, 3, 1), 200.0), scores, fraction=2 / 9)
    assert (top[:, 1, 2] == 0).all() and (top[:, 0, 0] == 0).all() and (top == 0).sum() == 4
    assert (random == 0).sum() == 4
    result = checks.deletion_test(model, images, labels, zoo.explain(model, images).attributions)
    assert result["difference_interval"][0] > 0, result
    assert result["most_attributed"]["accuracy"] < 0.5 < result["random"]["accuracy"]


def test_bad_attack_requests_are_zoo_errors(mnist):
    model, images, labels = mnist
    with pytest.raises(zoo.ZooError, match="attack is one of"):
        attacks.attack(model, images[:2], labels[:2], 8, "cw")
    with pytest.raises(zoo.ZooError, match="budget in pixels"):
        attacks.attack(model, images[:2], labels[:2], 300)
