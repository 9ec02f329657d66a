"""zoo.explain: Integrated Gradients and Grad-CAM checked as the literature checks them.

Completeness (Sundararajan et al. 2017): attributions sum to score(input) - score(baseline) within 1%.
Randomization (Adebayo et al. 2018): a re-initialized model's attributions rank-correlate below 0.5
with the trained model's. Plus speed (one image or sentence under 2 s) and what each method should find.
"""

import re
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


@pytest.mark.slow
def test_text_attributions_sum_up_and_point_at_the_sentiment_words(text_run):
    explanation = zoo.explain(text_run, [POSITIVE, NEGATIVE])
    assert explanation.tokens[0] == re.findall(r"\w+", POSITIVE.lower())  # words only: marks split them
    assert [explanation.class_names[t] for t in explanation.targets] == ["pos", "neg"]
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


@pytest.mark.slow
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


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """A logistic regression run on breast_cancer."""
    from zoo_apps import tabular

    model_dir = tmp_path_factory.mktemp("table") / "run"
    run(tabular.main, "--model=logistic_regression", "--dataset=breast_cancer", f"--model_dir={model_dir}")
    return model_dir


@pytest.mark.slow
def test_table_attributions_of_a_linear_model_are_its_weighted_standardized_features(table_run):
    model, info = explainers.load_model(table_run)
    schema = info["schema"]
    means = np.array([entry["mean"] for entry in schema["numeric"]])
    stds = np.sqrt([entry["variance"] for entry in schema["numeric"]])
    rows = np.stack([means * 1.2, means * 0.7])
    rows[1, 3] = np.nan  # missing: imputed to the mean, so attribution 0
    explanation = zoo.explain(table_run, {"numeric": rows})
    assert explanation.feature_names[0] == schema["numeric"][0]["name"]
    weights = np.asarray(model.get_layer("logits").kernel)
    standardized = np.nan_to_num((rows - means) / stds)
    expected = standardized * weights[:, explanation.targets].T
    np.testing.assert_allclose(explanation.attributions, expected, rtol=1e-3, atol=1e-4)
    assert explanation.attributions[1, 3] == 0
    assert (explanation.completeness_error() < 0.01).all()


@pytest.mark.slow
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


@pytest.fixture(scope="module")
def image_run(mnist, tmp_path_factory):
    """A run folder holding the shipped cnn, and three test digits as PNG files."""
    import tensorflow as tf

    from zoo.run_folder import RunFolder

    model, images, _ = mnist
    folder = RunFolder(tmp_path_factory.mktemp("image") / "cnn")
    folder.path.mkdir()
    model.save(folder.model_path)
    folder.write_config(dict(run=dict(model="cnn", dataset="mnist_5k"), class_names=[str(i) for i in range(10)]))
    folder.write_metrics({})
    pngs = [folder.path.parent / f"digit{i}.png" for i in range(3)]
    for png, image in zip(pngs, images):
        tf.io.write_file(str(png), tf.io.encode_png(image.astype(np.uint8)))
    return folder.path, pngs


def test_app_writes_overlays_for_images(image_run, mnist):
    from zoo_apps import explain

    model_dir, pngs = image_run
    result = run(explain.main, f"--model_dir={model_dir}", *map(str, pngs))
    written = [model_dir / "explain" / f"digit{i}_{m}.png" for m in explainers.METHODS for i in range(3)]
    assert result.value == written and all(path.stat().st_size > 1000 for path in written)
    labels = mnist[2][:3]
    assert f"[integrated_gradients] {pngs[0]}: {labels[0]} (logit" in result.stdout
    assert "within 0." in result.stdout and f"[grad_cam] {pngs[2]}: {labels[2]}" in result.stdout


@pytest.mark.slow
def test_app_prints_and_colours_tokens(text_run, tmp_path):
    from zoo_apps import explain

    result = run(explain.main, f"--model_dir={text_run}", f"--output_dir={tmp_path}", POSITIVE, NEGATIVE)
    page = (tmp_path / "tokens.html").read_text()
    assert result.value == [tmp_path / "tokens.html"] and page.count("<span") == 14
    assert "pos" in result.stdout and "neg" in result.stdout
    scores = dict(line.split() for line in result.stdout.splitlines() if line.startswith("  superb"))
    assert float(scores["superb"]) > 0


@pytest.mark.slow
def test_app_draws_bars_for_csv_rows(table_run, tmp_path):
    import csv

    from zoo_apps import explain

    names = [entry["name"] for entry in explainers.load_model(table_run)[1]["schema"]["numeric"]]
    with open(tmp_path / "rows.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, names)
        writer.writeheader()
        writer.writerows([{name: 1.0 for name in names}, {name: "" for name in names}])
    result = run(explain.main, f"--model_dir={table_run}", f"--csv={tmp_path / 'rows.csv'}", f"--output_dir={tmp_path}")
    assert result.value == [tmp_path / "row1.png", tmp_path / "row2.png"]
    assert "row 2:" in result.stdout and "+0.000" in result.stdout  # an all-missing row is the baseline


@pytest.mark.parametrize(
    "arguments, message",
    [
        ([], "Pass --model_dir=RUN"),
        (["--model_dir=/nonexistent"], "is not a folder"),
        (["--model_dir={image}"], "Pass one or more image files"),
        (["--model_dir={image}", "missing.png"], "'missing.png' does not exist"),
        (["--model_dir={image}", "--csv=rows.csv"], "--csv is for table models"),
        (["--model_dir={text}", "--method=grad_cam", "Fine ."], "texts take integrated_gradients"),
        (["--model_dir={table}", "x"], "explains the rows of --csv=FILE"),
    ],
)
@pytest.mark.slow
def test_app_refuses_bad_input_in_one_line(arguments, message, image_run, text_run, table_run):
    from helpers import assert_one_line_error
    from zoo_apps import explain

    folders = dict(image=image_run[0], text=text_run, table=table_run)
    result = run(explain.main, *[argument.format(**folders) for argument in arguments], check=False)
    assert_one_line_error(result, message)
