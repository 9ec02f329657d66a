"""Text entries: BERT's mean pooling, a shipped encoder (`zoo.pretrained.encoders`) fine-tuned as
`preset=NAME` offline, and the package's own `bert_mlm_mr` encoder and `bert_mr` classifier."""

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.datasets import load_text_dataset
from zoo.pretrained import encoders, manifest
from zoo.pretrained.weights_file import SUFFIX, sha256_of
from zoo.tasks.classification import predict_logits
from zoo.text import bert, token_id_model

TINY = dict(num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32)
VOCABULARY = [*bert.SPECIAL_TOKENS, "a", "great", "movie", "bad", "##s"]


@pytest.fixture
def bert_test(monkeypatch):
    monkeypatch.setitem(bert.CONFIGS, "bert_test", TINY)


def features_and_logits(model, texts):
    """The token-id model's logits, and the same computed by hand from the backbone's token outputs."""
    classifier = token_id_model(model)
    ids = model.get_layer("preprocessor")(tf.constant(texts))["token_ids"]
    mask = keras.ops.not_equal(ids, 0)
    outputs = classifier.get_layer("backbone")(
        dict(token_ids=ids, segment_ids=keras.ops.zeros_like(ids), padding_mask=mask)
    )
    weights = np.asarray(mask, np.float32)[..., None]
    mean = (np.asarray(outputs["sequence_output"]) * weights).sum(1) / weights.sum(1)
    kernel, bias = classifier.get_layer("logits").get_weights()
    inputs = [ids, keras.ops.cast(mask, "int32"), keras.ops.zeros_like(ids)]  # ids, padding mask, segment ids
    return np.asarray(classifier(inputs, training=False)), mean @ kernel + bias


@pytest.mark.slow
def test_mean_pooling_averages_the_token_outputs_without_padding(bert_test):
    keras.utils.set_random_seed(0)
    model = zoo.create_model("bert", 2, vocabulary=VOCABULARY, sequence_length=8, preset="bert_test", pooling="mean")
    texts = ["a great movie", "bad"]  # 5 and 3 tokens of 8: padding differs
    logits, by_hand = features_and_logits(model, texts)
    np.testing.assert_allclose(logits, by_hand, rtol=1e-4, atol=1e-5)
    pooler = token_id_model(model).get_layer("backbone").get_layer("pooled_dense")
    assert not pooler.trainable  # unused, so frozen
    pooler.set_weights([np.ones_like(w) for w in pooler.get_weights()])
    np.testing.assert_allclose(features_and_logits(model, texts)[0], logits, rtol=1e-5)


def test_cls_pooling_stays_the_default_and_unknown_poolings_are_refused(bert_test):
    model = zoo.create_model("bert", 2, vocabulary=VOCABULARY, sequence_length=8, preset="bert_test")
    logits, by_hand = features_and_logits(model, ["a great movie"])
    assert not np.allclose(logits, by_hand, atol=1e-4)  # [CLS]'s pooled output, not the mean
    with pytest.raises(zoo.ZooError, match="pooling is one of cls, mean"):
        zoo.create_model("bert", 2, vocabulary=VOCABULARY, preset="bert_test", pooling="max")


@pytest.fixture
def tiny_encoder(tmp_path, monkeypatch, bert_test):
    """A manifest (made the package's) with one encoder entry, `bert_mlm_tiny`; returns the saved backbone."""
    keras.utils.set_random_seed(1)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCABULARY), max_sequence_length=16, name="backbone", **TINY
    )
    weights_file = tmp_path / "weights" / f"bert_mlm_tiny{SUFFIX}"
    encoders.save_encoder(backbone, VOCABULARY, weights_file)
    entry = dict(
        model="bert_mlm",
        kind=manifest.ENCODER,
        dataset="mr",
        default=True,
        builder_kwargs=dict(preset="bert_test", sequence_length=16),
        file=weights_file.name,
        size_bytes=weights_file.stat().st_size,
        sha256=sha256_of(weights_file),
        url=None,
    )
    manifest.write_manifest({"bert_mlm_tiny": entry}, tmp_path / "manifest.json")
    monkeypatch.setattr(manifest, "MANIFEST_PATH", tmp_path / "manifest.json")
    return backbone, weights_file


@pytest.mark.slow
def test_shipped_encoder_is_a_preset_name_offline_and_verified(tiny_encoder, tmp_path):
    saved, weights_file = tiny_encoder
    model = zoo.create_model("bert", 2, preset="bert_mlm_tiny", sequence_length=8, pooling="mean")
    backbone = token_id_model(model).get_layer("backbone")
    assert isinstance(backbone, bert.BoundedMaskBertBackbone)
    for loaded, original in zip(backbone.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(loaded, original.astype(np.float16).astype(np.float32))
    ids = model.get_layer("preprocessor")(tf.constant(["A great MOVIEs!"]))["token_ids"]
    assert list(np.asarray(ids)[0]) == [2, 5, 6, 7, 9, 1, 3, 0]
    model.save(tmp_path / "bert.keras")  # the fine-tuned model needs the entry no more
    texts = tf.constant(["great movie", "bad"])
    np.testing.assert_array_equal(keras.saving.load_model(tmp_path / "bert.keras")(texts), model(texts))
    with pytest.raises(zoo.ZooError, match="is a text encoder, not a model"):
        zoo.load_pretrained("bert_mlm_tiny")
    entry = manifest.read_manifest()["bert_mlm_tiny"]
    longer = {**entry, "builder_kwargs": {**entry["builder_kwargs"], "sequence_length": 32}}
    manifest.write_manifest({"bert_mlm_tiny": longer}, manifest.MANIFEST_PATH)
    with pytest.raises(zoo.ZooError, match=r"position_embedding/embeddings has shape \(16, 16\) there but \(32, 16\)"):
        zoo.create_model("bert", 2, preset="bert_mlm_tiny", sequence_length=8)
    manifest.write_manifest({"bert_mlm_tiny": entry}, manifest.MANIFEST_PATH)
    weights_file.write_bytes(weights_file.read_bytes()[:-1] + b"x")
    with pytest.raises(zoo.ZooError, match="has sha256 .* but the manifest expects"):
        zoo.create_model("bert", 2, preset="bert_mlm_tiny", sequence_length=8)


@pytest.mark.slow
def test_the_package_ships_the_mr_encoder_and_its_fine_tuned_classifier():
    encoder, classifier = manifest.pretrained_info("bert_mlm_mr"), manifest.pretrained_info("bert_mr")
    for name, entry in (("bert_mlm_mr", encoder), ("bert_mr", classifier)):
        weights_file = manifest.weights_dir() / entry["file"]
        assert weights_file.stat().st_size == entry["size_bytes"] < 4_000_000, name
        assert sha256_of(weights_file) == entry["sha256"], name
        assert (manifest.MANIFEST_PATH.with_name("cards") / name / "MODEL_CARD.md").is_file()
    assert encoder["kind"] == "encoder" and classifier["builder_kwargs"]["preset"] == "bert_mlm_mr"
    model = zoo.load_pretrained("bert_mr")  # the encoder's entry rebuilds it, the classifier's weights fill it
    splits = load_text_dataset(classifier["dataset"], seed=classifier["seed"])
    logits, labels = predict_logits(model, splits.test)
    assert len(labels) == classifier["test_examples"]
    accuracy = float((logits.argmax(1) == labels).mean())
    assert accuracy == pytest.approx(classifier["test_accuracy_float16_weights"], abs=0.002)


def test_the_shipped_encoder_is_listed_and_loads_with_its_vocabulary():
    assert "bert_mlm_mr" in encoders.list_encoders()
    assert encoders.is_encoder("bert_mlm_mr") and not encoders.is_encoder("cnn_mnist_5k")
    assert not encoders.is_encoder(None) and not encoders.is_encoder("bert_tiny")  # a size, not an entry
    entry, vocabulary, weights = encoders.load_encoder("bert_mlm_mr")
    assert entry["model"] == "bert_mlm" and set(bert.SPECIAL_TOKENS) <= set(vocabulary)
    assert weights and all(np.asarray(value).dtype == np.float16 for value in weights.values())
    with pytest.raises(zoo.ZooError, match="cnn_mnist_5k is not an encoder entry: pass one of bert_mlm_mr"):
        encoders.load_encoder("cnn_mnist_5k")
