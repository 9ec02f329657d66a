"""The text_classify app end to end on a tiny line-file dataset and the embedded MR set, in this process."""

import json
import os
import subprocess
import sys

import keras_hub
import pytest

import zoo
from helpers import WORDS, assert_one_line_error, run, write_reviews
from zoo.datasets import load_text_dataset
from zoo_apps import text_classify

FAST = ["--epochs=3", "--batch_size=16", "--learning_rate=0.02", "--sequence_length=8"]


def train(*args, check=True):
    return run(text_classify.main, *args, check=check)


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    return write_reviews(tmp_path_factory.mktemp("reviews"))


@pytest.fixture(scope="module")
def finished_run(reviews, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "bag"
    train("--model=bag_of_embeddings", f"--dataset=lines:{reviews}", f"--model_dir={model_dir}", *FAST)
    return model_dir


def test_run_writes_everything_into_model_dir(finished_run):
    names = set(os.listdir(finished_run))
    assert {
        "model.keras",
        "checkpoints",
        "logs",
        "history.csv",
        "labels.txt",
        "config.json",
        "metrics.json",
        "training_curves.png",
        "confusion_matrix.png",
    } <= names
    assert (finished_run / "labels.txt").read_text().split() == ["neg", "pos"]  # neg.txt, pos.txt
    config = json.loads((finished_run / "config.json").read_text())
    assert config["run"]["options"] == {"sequence_length": 8}
    assert config["run"]["recipe"]["epochs"] == 3 and config["input_shape"] == []
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.9  # the sentiment words give the class away
    assert "attributions.png" in [name for name, _ in metrics["plots"]]  # coloured token strips
    assert (finished_run / "attributions.png").is_file()


@pytest.mark.slow
def test_model_keras_classifies_raw_strings_in_a_fresh_process(finished_run):
    code = f"""
import keras, tensorflow as tf, zoo
model = keras.saving.load_model({str(finished_run / "model.keras")!r})
texts = tf.constant(["The film was superb , fun and long !", "a dull , awful film"])
logits = model.predict(texts, verbose=0)
print(*logits.argmax(1))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["1", "0"]  # pos, neg


@pytest.mark.slow
def test_bert_trains_from_a_local_preset(reviews, tmp_path):
    preset = tmp_path / "preset"
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "was"]
    keras_hub.models.BertTokenizer(vocabulary=vocabulary + WORDS["pos"] + WORDS["neg"], lowercase=True).save_to_preset(
        preset
    )
    keras_hub.models.BertBackbone(
        vocabulary_size=18,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=16,
    ).save_to_preset(preset)
    model_dir = tmp_path / "bert"
    train(
        "--model=bert",
        f"--preset={preset}",
        f"--dataset=lines:{reviews}",
        f"--model_dir={model_dir}",
        "--epochs=1",
        "--batch_size=32",
        "--sequence_length=16",
    )
    config = json.loads((model_dir / "config.json").read_text())
    assert config["run"]["options"] == {"preset": str(preset), "sequence_length": 16}
    assert json.loads((model_dir / "metrics.json").read_text())["num_parameters"] > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--dataset=lines:{reviews}", "--model=bert", "--preset=/no/such/preset"],
            "Unknown BERT preset '/no/such/preset'",
        ),
        (["--dataset=lines:{reviews}", "--preset=bert_tiny"], "--preset is for --model=bert only"),
        (["--dataset=lines:{reviews}", "--pooling=mean"], "--pooling is for --model=bert only"),
        (["--dataset=lines:{reviews}", "--augment"], "Unknown command line flag 'augment'"),
        (["--dataset=lines:{reviews}", "--model=cnn"], "'cnn' is a image_classification model"),
        (["--dataset=lines:/no/such/folder"], "does not exist"),
        (["--dataset=lines:{single_class}"], "needs at least two files"),
        (["--dataset=lines:{empty_file}"], "holds no text"),
        (["--dataset=folder:{latin1}"], "is not UTF-8 text"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, message, reviews, tmp_path):
    (tmp_path / "single_class").mkdir()
    (tmp_path / "single_class" / "pos").write_text("good\n")
    (tmp_path / "empty_file").mkdir()
    (tmp_path / "empty_file" / "pos").write_text("good\n")
    (tmp_path / "empty_file" / "neg").write_text("")
    for label in ("pos", "neg"):
        (tmp_path / "latin1" / label).mkdir(parents=True)
        for i in range(10):
            (tmp_path / "latin1" / label / f"{i}.txt").write_bytes("très bon".encode("latin-1"))
    paths = dict(reviews=reviews, **{name: tmp_path / name for name in ("single_class", "empty_file", "latin1")})
    result = train(f"--model_dir={tmp_path}/run", *[arg.format(**paths) for arg in args], check=False)
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()


def test_mr_is_embedded_and_the_default_dataset():
    splits = load_text_dataset("mr", seed=0)
    assert splits.class_names == ["negative", "positive"]
    sizes = [int(split.cardinality()) for split in (splits.train, splits.validation, splits.test)]
    assert sizes == [7647, 956, 956]
    assert splits.digest != load_text_dataset("mr", seed=1).digest
    assert zoo.get_task("text_classification").default_dataset == "mr"


@pytest.mark.slow
def test_default_command_trains_textcnn_on_mr(tmp_path, monkeypatch):
    """`python -m zoo_apps.text_classify` with no flags (here: one short epoch in tmp_path)."""
    monkeypatch.chdir(tmp_path)
    metrics = train("--epochs=1", "--sequence_length=16").value
    assert metrics["model"] == "textcnn" and metrics["dataset"] == "mr"
    assert (tmp_path / "runs" / "textcnn_mr" / "MODEL_CARD.md").is_file()
    assert metrics["test"]["accuracy"] > 0.6  # one short epoch on MR: clearly above chance (0.5)
