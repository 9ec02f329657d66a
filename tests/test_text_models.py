"""Every registered text model: raw strings in, logits out, save/load, one training
step, the pure-Python tokenizer, and the token-id model converting to builtin TFLite."""

import json

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

import zoo
from helpers import slow_unless
from zoo.text import (
    TextVectorizationTokenizer,
    Tokenizer,
    build_vocabulary,
    token_id_model,
    token_model_examples,
    tokenizer_from_config,
)
from zoo.text.bert import TOKEN_INPUTS
from zoo.text.vectorization import make_vectorizer

SEQUENCE_LENGTH = 12
TRAIN_TEXTS = [
    "A great, GREAT movie!",
    "bad film... really bad?",
    "it's the film's end",
    "café Été naïve résumé",
    "tabs\tand\nnewlines  and   spaces",
]
# Punctuation runs, case, non-ASCII letters and spaces, out-of-vocabulary words,
# empty and over-long texts.
TRICKY_TEXTS = [
    "",
    "   ",
    "GREAT!!!great?!",
    "(it's) \"the\" [film's] end.",
    "ÉTÉ Été été CAFÉ café",
    "x\u00a0y\u2003z\x1cw\u3000v",
    "emoji 🙂 and ﬁ ligature İstanbul ß",
    "unseenword anotherone",
    "a-b_c/d\\e@f#g$h%i^j&k*l+m=n|o~p`q<r>s{t}u;v:w",
    "bad " * 40,
]
# Small sizes keep the suite fast.
TEST_KWARGS = {
    "bag_of_embeddings": dict(embedding_dim=8),
    "bert": dict(preset="bert_tiny"),
    "bilstm": dict(embedding_dim=8, units=4),
    "nbsvm": dict(),
    "textcnn": dict(embedding_dim=8, filters=4),
    "transformer": dict(hidden_dim=8, intermediate_dim=16),
}
TEXT_MODELS = zoo.list_models(task="text_classification")


def build(name, num_classes=3):
    vocabulary = build_vocabulary(TRAIN_TEXTS)
    return zoo.create_model(
        name,
        num_classes,
        vocabulary=vocabulary,
        sequence_length=SEQUENCE_LENGTH,
        **TEST_KWARGS[name],
    )


def test_every_text_model_has_test_settings():
    assert set(TEXT_MODELS) == set(TEST_KWARGS)
    for name in TEXT_MODELS:
        info = zoo.model_info(name)
        assert info["input_shape"] == () and info["recipe"]["augment"] is False and info["paper"]


@pytest.mark.parametrize("name", slow_unless(TEXT_MODELS, fast={"bag_of_embeddings"}))
def test_forward_save_load_and_train_step_on_raw_strings(name, tmp_path):
    model = build(name)
    texts = tf.constant(TRICKY_TEXTS)
    logits = np.asarray(model(texts, training=False))
    assert logits.shape == (len(TRICKY_TEXTS), 3) and np.isfinite(logits).all()

    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)  # safe mode: no Lambda layers
    np.testing.assert_array_equal(restored(texts, training=False), logits)

    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(texts, np.arange(len(TRICKY_TEXTS)) % 3)
    assert np.isfinite(loss)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("name", [n for n in TEXT_MODELS if n != "bert"])
def test_python_tokenizer_gives_the_ids_of_the_keras_layer(name):
    model = build(name)
    keras_ids = np.asarray(model.get_layer("vectorize")(tf.constant(TRICKY_TEXTS + TRAIN_TEXTS)))
    tokenizer = Tokenizer.from_model(model)
    np.testing.assert_array_equal(tokenizer(TRICKY_TEXTS + TRAIN_TEXTS), keras_ids)
    # The config travels as JSON (e.g. in TFLite metadata) and rebuilds the same tokenizer.
    again = Tokenizer.from_config(json.loads(json.dumps(tokenizer.config())))
    np.testing.assert_array_equal(again(TRICKY_TEXTS), keras_ids[: len(TRICKY_TEXTS)])


def test_tokenizer_rules():
    tokenizer = Tokenizer.from_model(build("bag_of_embeddings"))
    # Split at runs of anything but ASCII letters, digits and "_"; no lower-casing here.
    assert tokenizer.tokens("GREAT!!it's Été\u00a0x 3_d") == ["GREAT", "it", "s", "t", "x", "3_d"]
    ids = tokenizer(["great unseenword", "", "great " * 50, "Great GREAT gReat", "A great, GREAT movie!"])
    assert ids.dtype == np.int32 and ids.shape == (5, SEQUENCE_LENGTH)
    great = tokenizer.vocabulary.index("great") + 2  # 0: padding, 1: unknown
    assert list(ids[0, :3]) == [great, 1, 0]
    assert not ids[1].any() and (ids[2] == great).all()
    assert list(ids[3, :4]) == [great, great, 1, 0]  # lower, Capitalized, UPPER; mixed case is unknown
    assert list(ids[4, :5]) == [tokenizer.vocabulary.index(word) + 2 for word in ("a", "great", "great", "movie")] + [0]


def test_tokenizer_refuses_what_it_cannot_reproduce():
    with pytest.raises(zoo.ZooError, match="must be lower-case runs of ASCII"):
        Tokenizer(["great", "Bad"], 8)
    with pytest.raises(zoo.ZooError, match="must be lower-case runs of ASCII"):
        Tokenizer(["great", "it's"], 8)
    config = Tokenizer(["great"], 8).config()
    with pytest.raises(zoo.ZooError, match="Unsupported word rules"):
        Tokenizer.from_config({**config, "pattern": "\\s+"})
    with pytest.raises(zoo.ZooError, match="list of strings"):
        Tokenizer(["great"], 8)("a single string")
    with pytest.raises(zoo.ZooError, match="Unknown tokenizer type 'bpe'"):
        tokenizer_from_config(dict(type="bpe"))


def test_runs_of_zoo_0_3_keep_their_tokenizer(tmp_path):
    """A model saved with the TextVectorization layer of zoo 0.3 loads, and its sidecar tokenizer still works."""
    vectorize = make_vectorizer(SEQUENCE_LENGTH, 100, ["great", "!", "bad"])
    text = keras.Input(shape=(), dtype="string")
    old = keras.Model(text, vectorize(text))
    old.save(tmp_path / "old.keras")
    restored = keras.saving.load_model(tmp_path / "old.keras")
    config = json.loads(json.dumps(TextVectorizationTokenizer.from_model(restored).config()))
    assert config["type"] == "text_vectorization"
    texts = ["GREAT!bad", "", "great ! unseen"]
    np.testing.assert_array_equal(tokenizer_from_config(config)(texts), np.asarray(restored(tf.constant(texts))))


def _convert_builtins_only(model, tmp_path):
    model.export(str(tmp_path / "saved_model"), format="tf_saved_model", verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved_model"))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex
    return converter.convert()


@pytest.mark.parametrize("name", slow_unless(TEXT_MODELS, fast={"bag_of_embeddings", "textcnn"}))
def test_token_id_model_converts_to_builtin_tflite_with_the_same_outputs(name, tmp_path):
    model = build(name)
    token_model = token_id_model(model)
    assert all(tensor.shape == (None, SEQUENCE_LENGTH) and tensor.dtype == "int32" for tensor in token_model.inputs)
    # bert: ids, padding mask and segment ids; the others: word ids.
    examples = token_model_examples(model, TRICKY_TEXTS)
    if name == "bert":
        inputs = [np.stack([example[key] for example in examples]) for key in TOKEN_INPUTS]
    else:
        inputs = [np.stack(examples)]
    assert [tensor.name for tensor in token_model.inputs] == (list(TOKEN_INPUTS) if name == "bert" else ["token_ids"])
    expected = np.asarray(model(tf.constant(TRICKY_TEXTS)))
    np.testing.assert_allclose(token_model(inputs if name == "bert" else inputs[0]), expected, atol=1e-5)

    interpreter = Interpreter(model_content=_convert_builtins_only(token_model, tmp_path))
    op_names = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not [op for op in op_names if "FLEX" in op.upper() or op == "CUSTOM"], op_names
    runner = interpreter.get_signature_runner()
    names = list(runner.get_input_details())
    for index, want in enumerate(expected):
        feed = {key: inputs[0 if len(inputs) == 1 else list(TOKEN_INPUTS).index(key)][index][None] for key in names}
        (got,) = runner(**feed).values()
        np.testing.assert_allclose(got[0], want, atol=1e-4)


def test_textcnn_parameter_count_and_short_sequences():
    vocabulary = [f"w{i}" for i in range(98)]  # + padding and OOV = 100 embedding rows
    model = zoo.create_model("textcnn", 2, vocabulary=vocabulary)
    # embedding 100x128, conv widths 3/4/5 x 100 maps, dense 300 -> 2
    assert model.count_params() == 100 * 128 + sum(w * 128 * 100 + 100 for w in (3, 4, 5)) + 602
    with pytest.raises(zoo.ZooError, match="sequence_length >= its widest filter"):
        zoo.create_model("textcnn", 2, vocabulary=vocabulary, sequence_length=4)
    with pytest.raises(zoo.ZooError, match="more than max_tokens - 2"):
        zoo.create_model("textcnn", 2, vocabulary=vocabulary, max_tokens=50)


def test_vocabulary_comes_from_the_training_texts_most_frequent_first():
    texts = ["b a b", "a B c!"]  # b: 3, a: 2, then c once; "!" is no word
    assert build_vocabulary(texts, max_tokens=4) == ["b", "a"]
    assert build_vocabulary(texts) == ["b", "a", "c"]
    assert build_vocabulary(texts, rules="punctuation") == ["b", "a", "c", "!"]  # bert's whole words
    assert build_vocabulary(tf.data.Dataset.from_tensor_slices(texts))[:2] == ["b", "a"]
    with pytest.raises(zoo.ZooError, match="no tokens"):
        build_vocabulary(["", "  ", "!?"])


def test_token_id_model_refuses_other_models():
    with pytest.raises(zoo.ZooError, match="not a zoo text model"):
        token_id_model(zoo.create_model("cnn"))


@pytest.fixture(scope="module")
def tiny_bert_preset(tmp_path_factory):
    """A BERT preset saved the way keras-hub saves downloaded ones."""
    preset = tmp_path_factory.mktemp("tiny_bert_preset")
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "great", "movie", "bad", "##s"]
    keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True).save_to_preset(preset)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )
    backbone.save_to_preset(preset)
    return preset, backbone


@pytest.mark.slow
def test_bert_fine_tunes_a_local_preset(tiny_bert_preset, tmp_path):
    preset, saved_backbone = tiny_bert_preset
    model = zoo.create_model("bert", 2, preset=str(preset), sequence_length=8)
    backbone = token_id_model(model).get_layer("backbone")
    for loaded, saved in zip(backbone.get_weights(), saved_backbone.get_weights()):
        np.testing.assert_array_equal(loaded, saved)
    ids = model.get_layer("preprocessor")(tf.constant(["A great MOVIEs!"]))["token_ids"]
    # [CLS] a great movie ##s [UNK]("!") [SEP] [PAD]
    assert list(np.asarray(ids)[0]) == [2, 5, 6, 7, 9, 1, 3, 0]
    model.save(tmp_path / "bert.keras")
    restored = keras.saving.load_model(tmp_path / "bert.keras")
    texts = tf.constant(["great movie", "bad"])
    np.testing.assert_array_equal(restored(texts), model(texts))
    with pytest.raises(zoo.ZooError, match="takes at most 32 tokens"):
        zoo.create_model("bert", 2, preset=str(preset), sequence_length=64)


def test_bert_refuses_unknown_presets(tmp_path):
    with pytest.raises(zoo.ZooError, match="Unknown BERT preset '/no/such/preset'"):
        zoo.create_model("bert", 2, preset="/no/such/preset")
    with pytest.raises(zoo.ZooError, match="Unknown BERT preset"):
        zoo.create_model("bert", 2, preset=str(tmp_path))  # a folder, but no preset
