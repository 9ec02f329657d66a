"""`python -m zoo_apps.text_classify` end to end on a tiny line-file dataset, and its errors."""

import json
import os
import subprocess
import sys

import keras_hub
import numpy as np
import pytest
from absl import flags

import zoo
from zoo_apps import text_classify

WORDS = {
    "pos": ["good", "great", "fun", "superb", "moving"],
    "neg": ["bad", "dull", "awful", "boring", "weak"],
}
FAST = ["--epochs=3", "--batch_size=16", "--learning_rate=0.02", "--sequence_length=8"]


def run_app(*args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "zoo_apps.text_classify", *args],
        capture_output=True, text=True, timeout=300,
    )
    if check and result.returncode:
        raise AssertionError(result.stderr[-3000:])
    return result


def run_main(*args):
    """Runs the app's main in this process (fast), with only `args` set."""
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["text_classify", *args])
    try:
        text_classify.main([])
    finally:
        flags.FLAGS.unparse_flags()


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """Two line files of short "reviews" told apart by their sentiment words."""
    root = tmp_path_factory.mktemp("reviews")
    rng = np.random.default_rng(0)
    for name, words in WORDS.items():
        lines = [
            f"The film was {rng.choice(words)} , {rng.choice(words)} and long !" for _ in range(100)
        ]
        (root / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def finished_run(reviews, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "bag"
    run_app("--model=bag_of_embeddings", f"--dataset=lines:{reviews}", f"--model_dir={model_dir}", *FAST)
    return model_dir


def test_run_writes_everything_into_model_dir(finished_run):
    names = set(os.listdir(finished_run))
    assert {
        "model.keras", "checkpoints", "logs", "history.csv", "labels.txt", "config.json",
        "metrics.json", "training_curves.png", "confusion_matrix.png",
    } <= names
    assert (finished_run / "labels.txt").read_text().split() == ["neg.txt", "pos.txt"]
    config = json.loads((finished_run / "config.json").read_text())
    assert config["run"]["model_options"] == {"sequence_length": 8}
    assert config["run"]["recipe"]["epochs"] == 3 and config["input_shape"] == []
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.9  # the sentiment words give the class away


def test_model_keras_classifies_raw_strings_in_a_fresh_process(finished_run):
    code = f"""
import keras, tensorflow as tf, zoo
model = keras.saving.load_model({str(finished_run / "model.keras")!r})
texts = tf.constant(["The film was superb , fun and long !", "a dull , awful film"])
logits = model.predict(texts, verbose=0)
print(*logits.argmax(1))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["1", "0"]  # pos.txt, neg.txt


def test_bert_trains_from_a_local_preset(reviews, tmp_path):
    preset = tmp_path / "preset"
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "was"]
    keras_hub.models.BertTokenizer(
        vocabulary=vocabulary + WORDS["pos"] + WORDS["neg"], lowercase=True
    ).save_to_preset(preset)
    keras_hub.models.BertBackbone(
        vocabulary_size=18, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
        max_sequence_length=16,
    ).save_to_preset(preset)
    model_dir = tmp_path / "bert"
    run_main(
        "--model=bert", f"--preset={preset}", f"--dataset=lines:{reviews}",
        f"--model_dir={model_dir}", "--epochs=1", "--batch_size=32", "--sequence_length=16",
    )
    config = json.loads((model_dir / "config.json").read_text())
    assert config["run"]["model_options"] == {"preset": str(preset), "sequence_length": 16}
    assert json.loads((model_dir / "metrics.json").read_text())["num_parameters"] > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset=lines:{reviews}", "--model=bert", "--preset=/no/such/preset"],
         "Unknown BERT preset '/no/such/preset'"),
        (["--dataset=lines:{reviews}", "--preset=bert_tiny"], "--preset is for --model=bert only"),
        (["--dataset=lines:{reviews}", "--augment"], "text models have no augmentation"),
        (["--dataset=lines:{reviews}", "--model=cnn"], "'cnn' is not a text model"),
        (["--dataset=lines:/no/such/folder"], "does not exist"),
        (["--dataset=lines:{single_class}"], "needs at least two files"),
        (["--dataset=lines:{empty_file}"], "holds no text"),
        ([], "Pass --dataset"),
    ],
)
def test_bad_input_raises_a_clear_error_and_writes_nothing(args, message, reviews, tmp_path):
    (tmp_path / "single_class").mkdir()
    (tmp_path / "single_class" / "pos").write_text("good\n")
    (tmp_path / "empty_file").mkdir()
    (tmp_path / "empty_file" / "pos").write_text("good\n")
    (tmp_path / "empty_file" / "neg").write_text("")
    paths = dict(reviews=reviews, single_class=tmp_path / "single_class", empty_file=tmp_path / "empty_file")
    args = [arg.format(**paths) for arg in args]
    with pytest.raises(zoo.ZooError, match=message):
        run_main(f"--model_dir={tmp_path}/run", *args)
    assert not (tmp_path / "run").exists()


def test_bad_input_is_one_line_and_exit_2_from_the_command_line(tmp_path):
    (tmp_path / "pos").write_text("good\n")
    (tmp_path / "neg").write_text("")
    result = run_app(f"--dataset=lines:{tmp_path}", f"--model_dir={tmp_path}/run", check=False)
    assert result.returncode == 2
    # TensorFlow's native start-up lines may come first; ours is one line, last.
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "holds no text: put one example per line" in errors[0], result.stderr
    assert result.stderr.rstrip().endswith(errors[0]) and "Traceback" not in result.stderr
