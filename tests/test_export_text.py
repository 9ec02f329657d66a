"""export/ on tiny trained text runs: TFLite on token ids with builtin ops only, the
tokenizer in the sidecar, Predictor and CLI on raw strings, the report, bert."""

import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from export import predict, verify
from helpers import WORDS, run
from zoo.text import (
    Tokenizer,
    WordPieceTokenizer,
    keras_token_ids,
    tokenizer_from_config,
)
from zoo_apps import text_classify

FLAVOURS = ("float32", "float16", "dynamic", "int8")
FAST = ["--batch_size=16", "--sequence_length=16", "--max_tokens=200"]
# Case, punctuation runs, non-ASCII letters and spaces, CJK, unknown words, empty and long texts.
TRICKY_TEXTS = [
    "",
    "GREAT!!!great?! (it's) \"the\" [film's] end.",
    "Été CAFÉ naïve İstanbul straße ﬁne 漢字かな",
    "x\u00a0y\u2003z\x1cw\u200bv soft\u00adhyphen",
    "unseenword superb " * 20,
]


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """Two line files of 40 short "reviews" told apart by their sentiment words."""
    root = tmp_path_factory.mktemp("reviews")
    rng = np.random.default_rng(1)
    for name, words in WORDS.items():
        lines = [f"The film was {rng.choice(words)}, {rng.choice(words)} and long!" for _ in range(40)]
        (root / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def quick_latency():
    """Latency from 5 calls (it is not under test here; bert's Keras call is slow)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verify, "TFLITE_TIMING", (5, 1))
        patch.setattr(verify, "KERAS_TIMING", (5, 1))
        yield


def texts_of(reviews):
    lines = [line for name in WORDS for line in (reviews / f"{name}.txt").read_text().splitlines()]
    return lines + TRICKY_TEXTS


def keras_top1(model_dir, texts):
    model = keras.saving.load_model(model_dir / "model.keras")
    return np.asarray(model(tf.constant(texts))).argmax(1)


@pytest.fixture(scope="module")
def textcnn_run(reviews, quick_latency, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "textcnn"
    run(
        text_classify.main,
        "--model=textcnn",
        f"--dataset=lines:{reviews}",
        f"--model_dir={model_dir}",
        "--epochs=3",
        "--learning_rate=0.02",
        *FAST,
    )
    return model_dir, export.export_run(model_dir)


@pytest.mark.slow
def test_text_run_exports_four_builtin_flavours_on_token_ids(textcnn_run):
    model_dir, report = textcnn_run
    export_dir = model_dir / "export"
    assert {path.name for path in export_dir.iterdir()} == {"saved_model", "report.json", "export.log"} | {
        f"model_{flavour}.{ext}" for flavour in FLAVOURS for ext in ("tflite", "json")
    }
    assert report == json.loads((export_dir / "report.json").read_text())
    rows = {row["file"]: row for row in report["files"]}
    assert list(rows) == ["model.keras", "saved_model"] + [f"model_{f}.tflite" for f in FLAVOURS]
    keras_accuracy = json.loads((model_dir / "metrics.json").read_text())["test"]["accuracy"]
    assert rows["model.keras"]["accuracy"] == pytest.approx(keras_accuracy) and keras_accuracy >= 0.8
    assert rows["saved_model"]["max_abs_diff"] < 1e-4  # raw strings in
    assert rows["model_float32.tflite"]["max_abs_diff"] < 1e-4
    assert rows["model_int8.tflite"]["top1_agreement"] >= 0.85
    assert report["task"] == "text_classification" and report["calibration_examples"] == 64
    tokenizer = Tokenizer.from_model(keras.saving.load_model(model_dir / "model.keras"))
    for flavour in FLAVOURS:
        assert all(op.isupper() for op in rows[f"model_{flavour}.tflite"]["operators"])
        description = json.loads((export_dir / f"model_{flavour}.json").read_text())
        assert description["task"] == "text_classification"
        assert description["labels"] == ["neg", "pos"]
        assert description["tokenizer"] == tokenizer.config()
        (tensor,) = description["inputs"]  # int8 too: ids stay int32
        assert tensor == dict(name="token_ids", shape=[1, 16], dtype="int32", quantization=None)
        assert description["outputs"][0]["dtype"] == "float32"  # also int8's: MediaPipe reads no int8 scores


@pytest.mark.slow
def test_python_tokenizer_from_the_sidecar_gives_the_keras_ids(textcnn_run, reviews):
    model_dir, _ = textcnn_run
    model = keras.saving.load_model(model_dir / "model.keras")
    config = json.loads((model_dir / "export/model_int8.json").read_text())["tokenizer"]
    texts = texts_of(reviews)
    keras_ids = np.asarray(model.get_layer("vectorize")(tf.constant(texts)))
    np.testing.assert_array_equal(tokenizer_from_config(config)(texts), keras_ids)
    np.testing.assert_array_equal(keras_token_ids(model, texts), keras_ids)


@pytest.mark.slow
@pytest.mark.parametrize("flavour, agreement", [("float32", 1.0), ("float16", 1.0), ("int8", 0.9)])
def test_predictor_on_strings_agrees_with_keras(textcnn_run, reviews, flavour, agreement):
    model_dir, _ = textcnn_run
    texts = texts_of(reviews)
    predictor = export.Predictor(model_dir / f"export/model_{flavour}.tflite")
    ranked = predictor.predict(texts)
    labels = [example[0][0] for example in ranked]
    expected = [predictor.labels[index] for index in keras_top1(model_dir, texts)]
    assert np.mean(np.array(labels) == np.array(expected)) >= agreement
    assert predictor.predict(texts[0], top_k=1) == [ranked[0][:1]]  # one string, no list


@pytest.mark.slow
def test_predict_cli_classifies_texts(textcnn_run):
    model = textcnn_run[0] / "export/model_int8.tflite"
    result = run(
        predict.cli, f"--model={model}", "--top_k=1", "The film was superb, fun and long!", "a dull , awful film"
    )
    lines = result.stdout.strip().splitlines()
    assert [line.rsplit(": ", 1)[1].split()[0] for line in lines] == ["pos", "neg"]


@pytest.mark.slow
def test_wrong_inputs_give_one_line_errors(textcnn_run, reviews, tmp_path):
    model_dir = textcnn_run[0]
    predictor = export.Predictor(model_dir / "export/model_int8.tflite")
    with pytest.raises(zoo.ZooError, match=r"classifies text.*Received: float64 array of shape \(8, 8, 1"):
        predictor.predict(np.zeros((8, 8, 1)))
    with pytest.raises(zoo.ZooError, match=r"classifies text.*Received: \[\]"):
        predictor.predict([])
    with pytest.raises(zoo.ZooError, match=r"pass a str or a list of str \(decode bytes first"):
        predictor.predict([b"good film"])
    image_model = tmp_path / "cnn.tflite"
    export.to_tflite(zoo.create_model("cnn", 2, (8, 8, 1)), image_model)
    with pytest.raises(zoo.ZooError, match=r"classifies images.*not text. Received: <U9 array"):
        export.Predictor(image_model).predict(["good film"])
    with pytest.raises(zoo.ZooError, match="Unknown tokenizer type 'bpe'"):
        tokenizer_from_config(dict(type="bpe"))
    grown = tmp_path / "grown"  # the data gained a class since training
    shutil.copytree(reviews, grown)
    (grown / "third.txt").write_text("a third class\n")
    config = json.loads((model_dir / "config.json").read_text())
    model = keras.saving.load_model(model_dir / "model.keras")
    with pytest.raises(zoo.ZooError, match="has 3 classes but the model has 2 outputs"):
        zoo.get_task("text_classification").export_data(
            dict(config, run=dict(config["run"], dataset=f"lines:{grown}")), model
        )


@pytest.fixture(scope="module")
def bert_run(reviews, quick_latency, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "bert"
    run(
        text_classify.main,
        "--model=bert",
        "--preset=bert_tiny",
        f"--dataset=lines:{reviews}",
        f"--model_dir={model_dir}",
        "--epochs=1",
        *FAST,
    )
    return model_dir, export.export_run(model_dir, formats=["float32", "int8"])


@pytest.mark.slow
def test_bert_exports_with_its_wordpiece_tokenizer_in_the_sidecar(bert_run, reviews):
    model_dir, report = bert_run
    rows = {row["file"]: row for row in report["files"]}
    assert rows["model_float32.tflite"]["max_abs_diff"] < 1e-4
    assert all(op.isupper() for op in rows["model_int8.tflite"]["operators"])
    model = keras.saving.load_model(model_dir / "model.keras")
    description = json.loads((model_dir / "export/model_int8.json").read_text())
    config = description["tokenizer"]
    assert config == WordPieceTokenizer.from_model(model).config()
    preprocessor = model.get_layer("preprocessor")
    vocabulary = preprocessor.tokenizer.get_vocabulary()
    assert config["vocabulary"] == vocabulary and config["lowercase"] is True
    special = [vocabulary[config[name]] for name in ("cls_id", "sep_id", "pad_id")]
    assert special == ["[CLS]", "[SEP]", "[PAD]"] and config["sequence_length"] == 16
    assert [tensor["dtype"] for tensor in description["inputs"]] == ["int32"] * 3
    assert config["model_inputs"] == ["token_ids", "padding_mask", "segment_ids"]

    texts = texts_of(reviews)
    # In a graph (as in training) keras-hub tokenizes with tf-text ops, eagerly in Python.
    graph_ids = tf.function(lambda batch: preprocessor(batch)["token_ids"])(tf.constant(texts))
    np.testing.assert_array_equal(tokenizer_from_config(config)(texts), graph_ids)
    np.testing.assert_array_equal(keras_token_ids(model, texts), graph_ids)
    predictor = export.Predictor(model_dir / "export/model_float32.tflite")
    np.testing.assert_allclose(predictor.outputs(texts), model(tf.constant(texts)), atol=1e-4)
