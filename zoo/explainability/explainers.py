"""Attributions of a classifier's answers for images, texts and table rows (`zoo.explain`)."""

import dataclasses
import pathlib

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError
from zoo.explainability import gradients
from zoo.run_folder import RunFolder, load_keras_file

METHODS = ("integrated_gradients", "grad_cam")


@dataclasses.dataclass
class Explanation:
    """What `zoo.explain` returns, one row per input.

    `attributions`: images `(n, height, width, channels)` for Integrated Gradients, `(n, height, width)`
    for Grad-CAM; texts `(n, sequence_length)`, one score per token position (0 for padding); table rows
    `(n, numeric features)`. `targets`: the class explained (the predicted one unless given);
    `scores`: its logit at the input; `baseline_scores`: at the baseline (Integrated Gradients only).
    """

    kind: str
    method: str
    attributions: np.ndarray
    targets: np.ndarray
    scores: np.ndarray
    baseline_scores: np.ndarray = None
    tokens: list = None
    feature_names: list = None
    class_names: list = None

    def completeness_error(self):
        """Per row, |sum of attributions - (score - baseline score)| / |score - baseline score|."""
        totals = self.attributions.reshape(len(self.attributions), -1).sum(axis=1)
        change = self.scores - self.baseline_scores
        return np.abs(totals - change) / np.maximum(np.abs(change), 1e-12)


def load_model(model_or_dir):
    """`(keras model, run info)` of a model, a `.keras` file or a run's `--model_dir`."""
    if isinstance(model_or_dir, keras.Model):
        return model_or_dir, {}
    path = pathlib.Path(model_or_dir).expanduser()
    if not path.is_dir():
        return load_keras_file(path), {}
    folder = RunFolder(path).require_finished()
    config, metrics = folder.config(), folder.metrics()
    return load_keras_file(folder.model_path), dict(class_names=config.get("class_names"), schema=metrics.get("schema"))


def input_kind(model):
    """`image`, `text` or `table`, from the model's inputs."""
    names = {tensor.name for tensor in model.inputs}
    if len(model.inputs) == 1 and model.inputs[0].dtype == "string":
        return "text"
    if names & {"numeric", "categorical"}:
        return "table"
    if len(model.inputs) == 1 and len(model.inputs[0].shape) == 4:
        return "image"
    raise ZooError(f"{model.name} takes {sorted(names)}: zoo.explain explains image, text and table classifiers.")


def chosen_targets(logits, target):
    """The predicted classes, or `target` (an int, or one per row) for every row."""
    if target is None:
        return np.asarray(logits).argmax(axis=-1)
    targets = np.broadcast_to(np.asarray(target, np.int64), (len(logits),)).copy()
    if targets.min() < 0 or targets.max() >= logits.shape[-1]:
        raise ZooError(f"target must be a class index in 0-{logits.shape[-1] - 1}. Received: {target}")
    return targets


def check_images(model, images):
    images = np.asarray(images, np.float32)
    images = images[None] if images.ndim == 3 else images
    expected = tuple(model.inputs[0].shape[1:])
    if images.ndim != 4 or any(e is not None and e != s for e, s in zip(expected, images.shape[1:])):
        raise ZooError(f"{model.name} takes images of shape {expected}. Received: {images.shape}")
    return images


def explain_images(model, images, method, target, steps, baseline):
    images = check_images(model, images)
    targets = chosen_targets(np.asarray(model(images, training=False)), target)
    if method == "grad_cam":
        layer = gradients.last_conv_layer(model)
        if layer is None:
            raise ZooError(f"{model.name} has no 2-D convolution: Grad-CAM needs one; use integrated_gradients.")
        cams, scores = gradients.grad_cam(model, images, targets, layer)
        return Explanation("image", method, cams, targets, scores)
    baseline = np.zeros_like(images[0]) if baseline is None else np.broadcast_to(baseline, images[0].shape)
    rows = [
        gradients.integrated_gradients(
            lambda points, t=t: gradients.target_scores(model(points[0], training=False), t), [x], [baseline], steps
        )
        for x, t in zip(images, targets)
    ]
    return _ig_explanation("image", rows, targets)


def _ig_explanation(kind, rows, targets, **extra):
    attributions = np.stack([row[0][0] for row in rows])
    scores, baseline_scores = (np.array([row[i] for row in rows]) for i in (1, 2))
    return Explanation(kind, "integrated_gradients", attributions, targets, scores, baseline_scores, **extra)


def text_parts(model):
    """`(vectorize layer, token classifier, its embedding layer)` of a zoo text model."""
    classifiers = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    names = [layer.name for layer in model.layers]
    if "vectorize" not in names or len(classifiers) != 1:
        raise ZooError(f"{model.name} is not a zoo text model (text -> vectorize -> token classifier).")
    token_classifier = classifiers[0]
    if "embedding" not in [layer.name for layer in token_classifier.layers]:
        raise ZooError(
            f"{model.name}'s token classifier has no layer named `embedding`, where Integrated Gradients "
            "integrates for text (textcnn, bilstm, bag_of_embeddings and transformer have one)."
        )
    return model.get_layer("vectorize"), token_classifier, token_classifier.get_layer("embedding")


def explain_texts(model, texts, method, target, steps):
    if method != "integrated_gradients":
        raise ZooError(f"{method} explains convolutional image models; texts take integrated_gradients.")
    texts = [texts] if isinstance(texts, str) else list(texts)
    vectorize, token_classifier, embedding = text_parts(model)
    ids = np.asarray(vectorize(tf.constant(texts)))
    targets = chosen_targets(np.asarray(token_classifier(ids, training=False)), target)
    vocabulary = vectorize.get_vocabulary()
    rows = [_text_row(token_classifier, embedding, row, t, steps) for row, t in zip(ids, targets)]
    per_token = [(row[0][0].sum(axis=-1),) + tuple(row[1:]) for row in rows]
    tokens = [[str(vocabulary[i]) for i in row if i != 0] for row in ids]
    return _ig_explanation("text", [([a], s, b) for a, s, b in per_token], targets, tokens=tokens)


def _text_row(token_classifier, embedding, ids, target, steps):
    """Integrated Gradients on the embeddings of one text; the baseline embeds padding at every position."""
    embedded = np.asarray(embedding(ids[None]))[0]
    baseline = np.asarray(embedding(np.zeros_like(ids)[None]))[0]

    def score(points):
        with gradients.replaced_output(embedding, points[0]):
            tiled = np.repeat(ids[None], points[0].shape[0], axis=0)
            return gradients.target_scores(token_classifier(tiled, training=False), target)

    return gradients.integrated_gradients(score, [embedded], [baseline], steps)
