"""zoo's text files in MediaPipe's `TextClassifier`, the C++ that Android, iOS and web apps run: it
tokenizes from the file's metadata alone and gives the ids, scores and top-1 of Keras and
`export.Predictor` (word models: a regex tokenizer; bert: MediaPipe's BERT tokenizer)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from export.tflite_metadata import associated_files, read_metadata
from helpers import WORDS
from zoo.text import (
    WordPieceTokenizer,
    bert,
    build_vocabulary,
    fit_nbsvm_inputs,
    token_id_model,
    token_model_examples,
    tokenizer_of,
    words,
)

mp_text = pytest.importorskip("mediapipe.tasks.python.text")

LENGTH = 12
TRAIN = [f"The film was {good}, not {bad}; it's {good}!" for good in WORDS["pos"] for bad in WORDS["neg"]]
TRAIN += [f"A {bad} movie, {bad} cast and 3 plots." for bad in WORDS["neg"]]
# Case, punctuation, apostrophes, digits, "_", non-ASCII letters and spaces, CJK, emoji, empty, very long.
TRICKY = [
    "",
    "   ",
    "GREAT!!!great?! (it's) \"the\" [film's] end.",
    "The Film IT'S It's it'S McDonald DON'T Don't 123 3rd _ __ x_y",
    "'",
    "''great''",
    "don't'",
    "it''s",
    "Été CAFÉ naïve İstanbul straße ﬁne 漢字かな 🙂 The",
    "x\u00a0y\u2003z\x1cw\u200bv soft\u00adhyphen tabs\tand\nnewlines",
    "a-b_c/d\\e@f#g$h%i^j&k*l+m=n|o~p`q<r>s{t}u;v:w",
    "film " * 40,
]
ASCII = [text for text in TRICKY if text.isascii()]


def identity_model(inputs):
    """A token model whose scores are its int inputs (concatenated): MediaPipe's scores are its ids."""
    tensors = [keras.Input((LENGTH,), dtype="int32", name=name) for name in inputs]
    joined = keras.ops.concatenate(tensors, 1) if len(tensors) > 1 else tensors[0]
    return keras.Model(tensors, keras.layers.Identity(name="logits")(keras.ops.cast(joined, "float32")))


def export_text(token_model, path, tokenizer, labels, flavour="float32", examples=None):
    metadata = dict(task="text_classification", labels=labels, tokenizer=tokenizer.config())
    export.to_tflite(token_model, path, flavour=flavour, representative_data=examples, metadata=metadata)
    return path


def mediapipe_scores(path, texts, classes):
    """MediaPipe's score of every class for each text, `(len(texts), classes)`."""
    scores = np.full((len(texts), classes), np.nan, np.float32)
    with mp_text.TextClassifier.create_from_model_path(str(path)) as classifier:
        for row, text in enumerate(texts):
            for category in classifier.classify(text).classifications[0].categories:
                scores[row, category.index] = category.score
    return scores


def test_word_ids_agree_in_keras_python_and_mediapipe(tmp_path):
    vocabulary = build_vocabulary(TRAIN + ["don't it's 123 x_y _ 3rd"])
    assert {"don", "t", "it", "s", "123", "x_y", "_", "3rd"} <= set(vocabulary)
    texts = TRICKY + TRAIN[:5]
    text = keras.Input(shape=(), dtype="string")
    keras_ids = keras.Model(text, words.WordVectorizer(vocabulary, LENGTH)(text))(tf.constant(texts))
    tokenizer = words.Tokenizer(vocabulary, LENGTH)
    np.testing.assert_array_equal(tokenizer(texts), keras_ids)
    path = export_text(identity_model(["token_ids"]), tmp_path / "ids.tflite", tokenizer, list(map(str, range(LENGTH))))
    np.testing.assert_array_equal(mediapipe_scores(path, texts, LENGTH), keras_ids)
    the, film = (vocabulary.index(word) + 2 for word in ("the", "film"))
    assert list(np.asarray(keras_ids)[3, :2]) == [the, film] and (np.asarray(keras_ids)[-6] == film).all()


def test_bert_ids_agree_with_mediapipe_on_ascii_text(tmp_path):
    vocabulary = bert.SPECIAL_TOKENS + build_vocabulary(TRAIN, rules="punctuation") + ["##s", "##m"]
    tokenizer = WordPieceTokenizer(
        vocabulary, LENGTH, cls_id=2, sep_id=3, pad_id=0, model_inputs=bert.TOKEN_INPUTS, lowercase=True,
        strip_accents=False, split_on_cjk=True, suffix_indicator="##", oov_token="[UNK]",
    )  # fmt: skip
    labels = list(map(str, range(3 * LENGTH)))
    path = export_text(identity_model(bert.TOKEN_INPUTS), tmp_path / "bert_ids.tflite", tokenizer, labels)
    inputs = tokenizer.inputs(ASCII)
    ours = np.concatenate([inputs[name] for name in bert.TOKEN_INPUTS], 1)
    np.testing.assert_array_equal(mediapipe_scores(path, ASCII, 3 * LENGTH), ours)
    assert (ours[:, LENGTH:].sum(1) == (ours[:, :LENGTH] != 0).sum(1)).all()  # mask: 1 on every id


def tiny_word_model(name, classes=3):
    texts = TRAIN + [f"{word} film" for word in WORDS["pos"]]
    labels = np.arange(len(texts)) % classes
    keras.utils.set_random_seed(0)
    if name == "nbsvm":
        dataset = tf.data.Dataset.from_tensor_slices((texts, labels))
        inputs = fit_nbsvm_inputs(dataset, classes, max_tokens=200, sequence_length=LENGTH)
        model = zoo.create_model(name, classes, sequence_length=LENGTH, max_tokens=200, **inputs)
        weights = token_id_model(model).get_layer("feature_weights")
        weights.set_weights([np.random.default_rng(0).normal(size=weights.get_weights()[0].shape)])
        return model, texts
    vocabulary = build_vocabulary(texts, max_tokens=200)
    return zoo.create_model(name, classes, vocabulary=vocabulary, sequence_length=LENGTH, embedding_dim=8), texts


def check_file(path, model, texts, classes, atol):
    predictor = export.Predictor(path)
    logits = predictor.outputs(texts)
    scores = mediapipe_scores(path, texts, classes)
    np.testing.assert_allclose(scores, logits, atol=1e-5)  # the same file on the same ids
    assert (scores.argmax(1) == logits.argmax(1)).all()
    np.testing.assert_allclose(logits, model(tf.constant(texts)), atol=atol)
    assert [ranked[0][0] for ranked in predictor.predict(texts)] == [predictor.labels[i] for i in scores.argmax(1)]


@pytest.mark.parametrize("name", ["textcnn", "nbsvm"])
def test_exported_word_models_give_predictors_scores_in_mediapipe(name, tmp_path):
    model, texts = tiny_word_model(name)
    tokenizer, labels = tokenizer_of(model), ["neg", "neutral", "pos"]
    examples = token_model_examples(model, texts)
    for flavour, atol in (("float32", 1e-4), ("int8", None)):
        path = export_text(token_id_model(model), tmp_path / f"{flavour}.tflite", tokenizer, labels, flavour, examples)
        check_file(path, model, texts + TRICKY, 3, atol or 0.1 * np.abs(model(tf.constant(texts))).max() + 1e-3)
        content = path.read_bytes()
        (tensor,) = read_metadata(content)["inputs"]
        ((kind, options),) = tensor.process_units
        assert kind == "RegexTokenizerOptions" and options["delim_regex_pattern"] == words.PATTERN
        assert associated_files(content)["vocab.txt"] == words.vocabulary_file(tokenizer.vocabulary)
        assert read_metadata(content)["min_parser_version"] == "1.2.1"


@pytest.mark.slow
def test_exported_bert_gives_predictors_scores_in_mediapipe(tmp_path):
    texts = TRAIN + ASCII
    keras.utils.set_random_seed(0)
    vocabulary = build_vocabulary(TRAIN, rules="punctuation")
    model = zoo.create_model("bert", 2, vocabulary=vocabulary, sequence_length=LENGTH, preset="bert_tiny")
    tokenizer = tokenizer_of(model)
    examples = token_model_examples(model, TRAIN)
    for flavour, atol in (("float32", 1e-4), ("int8", 0.5)):
        path = export_text(
            token_id_model(model), tmp_path / f"{flavour}.tflite", tokenizer, ["neg", "pos"], flavour, examples
        )
        check_file(path, model, texts, 2, atol)
        metadata = read_metadata(path.read_bytes())
        assert sorted(tensor.name for tensor in metadata["inputs"]) == ["ids", "mask", "segment_ids"]
        ((kind, options),) = metadata["input_process_units"]
        assert kind == "BertTokenizerOptions" and options["vocab_file"][0]["name"] == "vocab.txt"
        vocab = associated_files(path.read_bytes())["vocab.txt"].decode().split("\n")[:-1]
        assert vocab == tokenizer.vocabulary
    assert export.Predictor(path).predict(["A gem!"])[0][0][0] in ("neg", "pos")
