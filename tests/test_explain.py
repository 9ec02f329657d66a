"""zoo.explain: Integrated Gradients and Grad-CAM checked as the literature checks them.

Completeness (Sundararajan et al. 2017): attributions sum to score(input) - score(baseline) within 1%.
Randomization (Adebayo et al. 2018): a re-initialized model's attributions rank-correlate below 0.5
with the trained model's. Plus speed (one image or sentence under 2 s) and what each method should find.
"""

import time

import numpy as np
import pytest

import zoo
from helpers import run, write_reviews
from zoo.explainability import checks, explainers

POSITIVE, NEGATIVE = "The film was good , superb and long !", "The film was awful , dull and long !"


@pytest.fixture(scope="module")
def mnist():
    """The shipped cnn and the first 60 images of mnist_5k's test split with their labels."""
    splits = zoo.get_task("image_classification").load_data("mnist_5k", seed=0)
    images, labels = next(iter(splits.test.batch(60)))
    return zoo.create_model("cnn", pretrained=True), images.numpy(), labels.numpy()


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """A textcnn run on short reviews whose sentiment words tell the class."""
    from zoo_apps import text_classify

    root = tmp_path_factory.mktemp("text")
    reviews = write_reviews(root / "reviews")
    run(
        text_classify.main, "--model=textcnn", f"--dataset=lines:{reviews}", "--epochs=3", f"--model_dir={root / 'run'}"
    )
    return root / "run"


def test_integrated_gradients_on_images_are_complete_and_fast(mnist):
    model, images, _ = mnist
    explanation = zoo.explain(model, images[:5])
    assert explanation.attributions.shape == images[:5].shape
    assert np.array_equal(explanation.targets, model.predict(images[:5], verbose=0).argmax(-1))
    assert (explanation.completeness_error() < 0.01).all(), explanation.completeness_error()
    assert np.all(explanation.attributions[images[:5] == 0] == 0)  # a black pixel equals the black baseline
    for method in explainers.METHODS:
        start = time.perf_counter()
        zoo.explain(model, images[5], method=method)
        assert time.perf_counter() - start < 2.0, method


def test_grad_cam_equals_cam_on_a_global_average_pooling_model(mnist):
    """Selvaraju et al.: with global average pooling then one Dense layer, Grad-CAM is CAM (Zhou et al.
    2016), the ReLU of the feature maps weighted by the Dense weights of the class, over the map size."""
    import keras

    _, images, _ = mnist
    keras.utils.set_random_seed(0)
    pixels = keras.Input((28, 28, 1))
    maps = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="features")(pixels / 255.0)
    logits = keras.layers.Dense(10, name="logits")(keras.layers.GlobalAveragePooling2D()(maps))
    model = keras.Model(pixels, logits)
    explanation = zoo.explain(model, images[:4], method="grad_cam", target=3)
    features = np.asarray(keras.Model(pixels, maps)(images[:4]))
    weights = np.asarray(model.get_layer("logits").kernel)[:, 3]
    cam = np.maximum(features @ weights, 0) / (features.shape[1] * features.shape[2])
    resized = np.asarray(keras.ops.image.resize(cam[..., None], (28, 28), interpolation="bilinear"))[..., 0]
    assert explanation.attributions.shape == (4, 28, 28)
    np.testing.assert_allclose(explanation.attributions, resized, rtol=1e-4, atol=1e-7)


def test_randomized_image_model_gives_uncorrelated_attributions(mnist):
    model, images, _ = mnist
    randomized = checks.randomized_model(model)
    assert not np.allclose(randomized.get_layer("conv").kernel, model.get_layer("conv").kernel)
    for method in explainers.METHODS:
        trained = zoo.explain(model, images[:10], method=method)
        other = zoo.explain(randomized, images[:10], method=method, target=trained.targets)
        correlations = [checks.rank_correlation(a, b) for a, b in zip(trained.attributions, other.attributions)]
        assert np.mean(correlations) < 0.5, (method, correlations)


def test_text_attributions_sum_up_and_point_at_the_sentiment_words(text_run):
    explanation = zoo.explain(text_run, [POSITIVE, NEGATIVE])
    assert explanation.tokens[0] == POSITIVE.lower().split()
    assert [explanation.class_names[t] for t in explanation.targets] == ["pos.txt", "neg.txt"]
    assert (explanation.completeness_error() < 0.01).all(), explanation.completeness_error()
    assert (explanation.attributions[:, len(explanation.tokens[0]) :] == 0).all()  # padding
    for tokens, scores, words in zip(
        explanation.tokens, explanation.attributions, (("good", "superb"), ("awful", "dull"))
    ):
        top_two = {tokens[i] for i in np.argsort(-scores[: len(tokens)])[:2]}
        assert top_two == set(words), (tokens, scores)
    zoo.explain(text_run, POSITIVE)
    start = time.perf_counter()
    zoo.explain(text_run, POSITIVE)
    assert time.perf_counter() - start < 2.0


def test_randomized_text_model_gives_uncorrelated_attributions(text_run):
    model, _ = explainers.load_model(text_run)
    randomized = checks.randomized_model(model)
    sentences = [POSITIVE, NEGATIVE, "A superb , moving film .", "Boring and weak , the film was bad ."]
    trained = zoo.explain(model, sentences)
    other = zoo.explain(randomized, sentences, target=trained.targets)
    assert randomized.get_layer("vectorize") is model.get_layer("vectorize")
    lengths = [len(tokens) for tokens in trained.tokens]
    correlations = [
        checks.rank_correlation(a[:n], b[:n]) for a, b, n in zip(trained.attributions, other.attributions, lengths)
    ]
    assert np.mean(correlations) < 0.5, correlations
    assert (other.completeness_error() < 0.01).all()


def test_table_attributions_of_a_linear_model_are_its_weighted_standardized_features(tmp_path):
    from zoo_apps import tabular

    run(tabular.main, "--model=logistic_regression", "--dataset=breast_cancer", f"--model_dir={tmp_path}")
    model, info = explainers.load_model(tmp_path)
    schema = info["schema"]
    means = np.array([entry["mean"] for entry in schema["numeric"]])
    stds = np.sqrt([entry["variance"] for entry in schema["numeric"]])
    rows = np.stack([means * 1.2, means * 0.7])
    rows[1, 3] = np.nan  # missing: imputed to the mean, so attribution 0
    explanation = zoo.explain(tmp_path, {"numeric": rows})
    assert explanation.feature_names[0] == schema["numeric"][0]["name"]
    weights = np.asarray(model.get_layer("logits").kernel)
    standardized = np.nan_to_num((rows - means) / stds)
    expected = standardized * weights[:, explanation.targets].T
    np.testing.assert_allclose(explanation.attributions, expected, rtol=1e-3, atol=1e-4)
    assert explanation.attributions[1, 3] == 0
    assert (explanation.completeness_error() < 0.01).all()


def test_bad_requests_are_zoo_errors(mnist, text_run):
    model, images, _ = mnist
    with pytest.raises(zoo.ZooError, match="method is one of"):
        zoo.explain(model, images[:1], method="lime")
    with pytest.raises(zoo.ZooError, match="takes images of shape"):
        zoo.explain(model, np.zeros((2, 8, 8, 1)))
    with pytest.raises(zoo.ZooError, match="class index"):
        zoo.explain(model, images[:1], target=10)
    with pytest.raises(zoo.ZooError, match="texts take integrated_gradients"):
        zoo.explain(text_run, POSITIVE, method="grad_cam")
    nbsvm = zoo.create_model("nbsvm", vocabulary=["good", "bad"], num_classes=2)
    with pytest.raises(zoo.ZooError, match="no layer named `embedding`"):
        zoo.explain(nbsvm, POSITIVE)
