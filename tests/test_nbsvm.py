"""nbsvm (Wang & Manning 2012): log-count ratios by hand, learning a task only bigrams
solve, the Python tokenizer's word ids and the model's exact bigram features, builtin
TFLite, and safe-mode loading."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter

import export
import zoo
from zoo.text import (
    fit_nbsvm_inputs,
    keras_token_ids,
    token_id_model,
    tokenizer_from_config,
    tokenizer_of,
)

SEQUENCE_LENGTH = 6  # words; the model adds their 5 bigrams
FILLER = ["the", "film", "was", "a", "plot", "cast", "it", "so", "and", "of"]
# Classes 0 and 1 hold the same two words in another order: only bigrams tell them apart.
CUES = ["bad good", "good bad", "good good"]
TRICKY_TEXTS = [
    "",
    "   ",
    "good bad",
    "GOOD!!!bad?! (it's) \"the\" [film's] end.",
    "Été ÉTÉ café CAFÉ naïve İstanbul straße ﬁne 漢字 🙂",
    "x\u00a0y\u2003z\x1cw\u3000v good\tbad\ngood",
    "unseen good unseen bad",
    "a-b_c/d\\e@f#g$h%i^j&k*l+m=n|o~p`q<r>s{t}u;v:w",
    "good bad " * 40,
]


def dataset(texts, labels):
    return tf.data.Dataset.from_tensor_slices((tf.constant(texts), tf.constant(labels, tf.int64)))


def toy_corpus(examples, seed):
    """Texts of a few filler words around one cue; the label is the cue's index."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for index in range(examples):
        label = index % len(CUES)
        words = list(rng.choice(FILLER, size=4))
        words.insert(int(rng.integers(0, 5)), CUES[label])
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


def to_tflite(model, path, flavour, representative_data=None):
    """The one place that names `export.to_tflite`'s flavour argument."""
    saved_model = export.to_saved_model(model, path.with_suffix(".saved_model"), batch_size=1)
    export.to_tflite(saved_model, path, flavour=flavour, representative_data=representative_data)
    return path.read_bytes()


def run_tflite(tflite_model, token_ids):
    interpreter = Interpreter(model_content=tflite_model)
    interpreter.allocate_tensors()
    (ids_input,), (output,) = interpreter.get_input_details(), interpreter.get_output_details()
    logits = []
    for row in token_ids:
        interpreter.set_tensor(ids_input["index"], row[None].astype(ids_input["dtype"]))
        interpreter.invoke()
        logits.append(interpreter.get_tensor(output["index"])[0])
    scale, zero_point = output["quantization"]
    logits = np.asarray(logits, np.float32)
    return (logits - zero_point) * scale if scale else logits


@pytest.fixture(scope="module")
def trained():
    """nbsvm trained on 3 classes that only bigrams separate."""
    keras.utils.set_random_seed(0)
    texts, labels = toy_corpus(150, seed=0)
    inputs = fit_nbsvm_inputs(dataset(texts, labels), 3, max_tokens=500, sequence_length=SEQUENCE_LENGTH)
    model = zoo.create_model("nbsvm", 3, sequence_length=SEQUENCE_LENGTH, max_tokens=500, **inputs)
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(tf.constant(texts), labels, batch_size=16, epochs=8, verbose=0)
    return model, texts


def feature_names(inputs):
    """Each feature's name: padding "", "[UNK]", the words, "[UNK BIGRAM]", then the bigrams "a b"."""
    words = ["", "[UNK]", *inputs["vocabulary"]]
    bigram_names = [f"{words[key // len(words)]} {words[key % len(words)]}" for key in inputs["bigrams"]]
    return [*words, "[UNK BIGRAM]", *bigram_names]


def ratios_by_token(inputs):
    return dict(zip(feature_names(inputs), inputs["log_count_ratios"], strict=True))


def test_log_count_ratios_match_a_hand_computation():
    # Presence, not counts: "good good" adds 1 to "good". Features: [UNK], 3 words, [UNK BIGRAM], 3 bigrams.
    texts = ["good film", "good good", "bad film"]
    inputs = fit_nbsvm_inputs(dataset(texts, [1, 1, 0]), 2, max_tokens=100, sequence_length=5)
    assert sorted(inputs["vocabulary"]) == ["bad", "film", "good"]
    assert sorted(feature_names(inputs)[6:]) == ["bad film", "good film", "good good"]
    ratios = ratios_by_token(inputs)
    # |p|_1 = 8 features + 5 occurrences in class 1, |q|_1 = 8 + 3 in class 0.
    expected = {
        "good": math.log((3 / 13) / (1 / 11)),
        "film": math.log((2 / 13) / (2 / 11)),
        "bad": math.log((1 / 13) / (2 / 11)),
        "good good": math.log((2 / 13) / (1 / 11)),
        "[UNK]": math.log((1 / 13) / (1 / 11)),
        "[UNK BIGRAM]": math.log((1 / 13) / (1 / 11)),
        "": 0.0,  # padding is no feature
    }
    for token, ratio in expected.items():
        np.testing.assert_allclose(ratios[token], [-ratio, ratio], rtol=1e-6, atol=1e-7)
    assert inputs["log_count_ratios"].dtype == np.float32


def test_log_count_ratios_are_one_versus_rest_for_several_classes():
    texts = ["bad film", "good film", "good good", "fine"]
    inputs = fit_nbsvm_inputs(dataset(texts, [0, 1, 1, 2]), 3, max_tokens=100, sequence_length=5)
    ratios = ratios_by_token(inputs)
    # 9 features; class 0 holds 3 occurrences and the rest 6; class 1 holds 5, the rest 4.
    np.testing.assert_allclose(ratios["bad"][0], math.log((2 / 12) / (1 / 15)), rtol=1e-6)
    np.testing.assert_allclose(ratios["film"][0], math.log((2 / 12) / (2 / 15)), rtol=1e-6)
    np.testing.assert_allclose(ratios["good"][1], math.log((3 / 14) / (1 / 13)), rtol=1e-6)
    with pytest.raises(zoo.ZooError, match=r"Labels must be in \[0, 2\)"):
        fit_nbsvm_inputs(dataset(texts, [0, 1, 1, 2]), 2, max_tokens=100, sequence_length=5)


def test_learns_a_task_that_only_bigrams_solve(trained):
    model, _ = trained
    texts, labels = toy_corpus(60, seed=1)
    accuracy = (np.asarray(model(tf.constant(texts))).argmax(1) == labels).mean()
    assert accuracy >= 0.95
    assert model.get_layer("token_classifier").get_layer("log_count_ratios").trainable is False


def test_python_tokenizer_gives_the_keras_word_ids_and_the_model_exact_bigram_features(trained):
    model, texts = trained
    tokenizer = tokenizer_of(model)
    assert tokenizer.sequence_length == SEQUENCE_LENGTH
    good, bad = (tokenizer.vocabulary.index(word) + 2 for word in ("good", "bad"))
    ids = tokenizer(["good bad", "Good, BAD!", "bad bad"])
    np.testing.assert_array_equal(ids, [[good, bad, 0, 0, 0, 0]] * 2 + [[bad, bad, 0, 0, 0, 0]])
    every_text = TRICKY_TEXTS + texts[:20]
    keras_ids = keras_token_ids(model, every_text)
    np.testing.assert_array_equal(tokenizer(every_text), keras_ids)
    again = tokenizer_from_config(json.loads(json.dumps(tokenizer.config())))
    np.testing.assert_array_equal(again(every_text), keras_ids)
    # The model's features: the words, then each pair's bigram: known ones their own, others "unknown bigram".
    layer = token_id_model(model).get_layer("bigrams")
    names = feature_names(dict(vocabulary=tokenizer.vocabulary, bigrams=[]))
    features = np.asarray(layer(ids))
    unknown_bigram = len(tokenizer.vocabulary) + 2
    assert features.shape == (3, 2 * SEQUENCE_LENGTH - 1) and (features[:, :6] == ids).all()
    assert features[0, 6] == features[1, 6] > unknown_bigram and features[2, 6] == unknown_bigram  # "bad bad" unseen
    assert not features[:, 7:].any() and names[good] == "good"  # pairs with padding are no feature
    # Every bigram the table holds gets its own feature: the table is exact.
    words = len(tokenizer.vocabulary) + 2
    pairs = np.array([[key // words, key % words] for key in range(words * words)], np.int32)
    found = np.asarray(layer(pairs))[:, 2]
    assert sorted(found[found > unknown_bigram]) == list(range(unknown_bigram + 1, layer.features))


def test_token_id_model_converts_to_builtin_tflite_float32_and_int8(trained, tmp_path):
    model, texts = trained
    token_model = token_id_model(model)
    assert token_model.input.shape == (None, SEQUENCE_LENGTH) and token_model.input.dtype == "int32"
    every_text = TRICKY_TEXTS + texts
    ids = tokenizer_of(model)(every_text)
    expected = np.asarray(model(tf.constant(every_text)))
    np.testing.assert_allclose(token_model(ids), expected, atol=1e-5)
    builtins = set(vars(schema.BuiltinOperator))
    float32 = to_tflite(token_model, tmp_path / "model_float32.tflite", "float32")
    int8 = to_tflite(token_model, tmp_path / "model_int8.tflite", "int8", list(ids[len(TRICKY_TEXTS) :]))
    for tflite_model in (float32, int8):
        assert set(export.operator_names(tflite_model)) <= builtins
    np.testing.assert_allclose(run_tflite(float32, ids), expected, atol=1e-4)
    int8_logits = run_tflite(int8, ids)
    assert (int8_logits.argmax(1) == expected.argmax(1)).mean() >= 0.95
    # Within the calibrated range (not the tricky texts' extreme logits), int8 is close.
    calibrated = slice(len(TRICKY_TEXTS), None)
    tolerance = 0.05 * np.abs(expected[calibrated]).max()
    np.testing.assert_allclose(int8_logits[calibrated], expected[calibrated], atol=tolerance)


def test_saves_and_loads_in_safe_mode(trained, tmp_path):
    model, _ = trained
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")  # safe_mode=True
    texts = tf.constant(TRICKY_TEXTS)
    np.testing.assert_array_equal(restored(texts), model(texts))
    np.testing.assert_array_equal(tokenizer_of(restored)(TRICKY_TEXTS), tokenizer_of(model)(TRICKY_TEXTS))


def test_without_ratios_it_is_logistic_regression_and_refuses_other_shapes():
    model = zoo.create_model("nbsvm", 2, vocabulary=["good", "bad"], sequence_length=5)
    ratios = token_id_model(model).get_layer("log_count_ratios").get_weights()[0]
    np.testing.assert_array_equal(ratios, np.ones((5, 2)))  # padding, [UNK], 2 words, [UNK BIGRAM]
    assert zoo.model_info("nbsvm")["input_shape"] == ()
    with pytest.raises(zoo.ZooError, match="log_count_ratios must have shape"):
        zoo.create_model("nbsvm", 2, vocabulary=["good", "bad"], log_count_ratios=np.zeros((4, 3)))
