"""The pretrain_text app: masked-LM pretraining of a tiny BERT on a corpus file, its keras-hub
preset, text_classify fine-tuning from it, the corpora and one-line errors; in this process."""

import csv
import json

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

import zoo
from export.run import export_run
from helpers import assert_one_line_error, run, write_reviews
from zoo.datasets import load_text_dataset
from zoo.text import bert, masking, token_id_model
from zoo_apps import pretrain_text, text_classify

TINY = dict(num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32)
TASK = zoo.get_task("masked_language_modeling")


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    return write_reviews(tmp_path_factory.mktemp("reviews"))


def pretrain(model_dir):
    """One epoch of a 1-layer, 16-wide BERT (size `bert_test`) on the corpus file beside `model_dir`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(bert.CONFIGS, "bert_test", TINY)
        return run(
            pretrain_text.main,
            "--preset=bert_test",
            f"--dataset=file:{model_dir.parent / 'corpus.txt'}",
            f"--model_dir={model_dir}",
            "--epochs=1",
            "--batch_size=32",
            "--sequence_length=16",
            "--max_tokens=500",
        )


@pytest.fixture(scope="module")
def pretrained_run(reviews, tmp_path_factory):
    """A finished pretraining run on the reviews' 200 sentences, as one corpus file."""
    folder = tmp_path_factory.mktemp("pretrain")
    (folder / "corpus.txt").write_text("".join(file.read_text() for file in sorted(reviews.iterdir())))
    pretrain(folder / "run")
    return folder / "run"


@pytest.mark.slow
def test_run_records_masked_token_metrics_vocabulary_and_curves(pretrained_run):
    metrics = json.loads((pretrained_run / "metrics.json").read_text())
    validation = metrics["validation"]
    assert np.isfinite(validation["masked_token_loss"]) and 0 <= validation["masked_token_accuracy"] <= 1
    assert validation["num_texts"] == 20 and metrics["train_texts"] == 180  # 90/10 of 200 lines
    # Fewer pieces than the 500 asked: the learner keeps only those seen 10 times.
    assert len(bert.SPECIAL_TOKENS) < metrics["vocabulary_size"] < 500
    assert metrics["sequence_length"] == 16 and metrics["mask_rate"] == 0.15
    with open(pretrained_run / "history.csv") as f:
        assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(next(csv.DictReader(f)))
    config = json.loads((pretrained_run / "config.json").read_text())
    assert config["run"]["task"] == "masked_language_modeling" and config["class_names"] == []
    assert not (pretrained_run / "labels.txt").exists()
    assert "masked-token accuracy" in (pretrained_run / "MODEL_CARD.md").read_text()


@pytest.mark.slow
def test_preset_loads_with_keras_hub_and_holds_the_trained_encoder(pretrained_run):
    preset = str(pretrained_run / "preset")
    tokenizer = keras_hub.models.BertTokenizer.from_preset(preset)
    backbone = keras_hub.models.BertBackbone.from_preset(preset)
    metrics = json.loads((pretrained_run / "metrics.json").read_text())
    assert tokenizer.vocabulary_size() == backbone.vocabulary_size == metrics["vocabulary_size"]
    assert backbone.max_sequence_length == 16 and backbone.hidden_dim == 16
    trained = keras.saving.load_model(pretrained_run / "model.keras")
    for loaded, saved in zip(backbone.get_weights(), trained.backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, saved)
    assert not [path for path in pretrained_run.iterdir() if path.name.startswith(".tmp-")]


@pytest.mark.slow
def test_text_classify_fine_tunes_from_the_pretrained_encoder(pretrained_run, reviews, tmp_path):
    preset = pretrained_run / "preset"
    run(
        text_classify.main,
        "--model=bert",
        f"--preset={preset}",
        f"--dataset=lines:{reviews}",
        f"--model_dir={tmp_path}",
        "--epochs=1",
        "--batch_size=32",
        "--sequence_length=16",
        "--learning_rate=1e-5",
    )
    classifier = keras.saving.load_model(tmp_path / "model.keras")
    tokenizer = classifier.get_layer("preprocessor").tokenizer
    assert tokenizer.get_vocabulary() == keras_hub.models.BertTokenizer.from_preset(str(preset)).get_vocabulary()
    tuned = token_id_model(classifier).get_layer("backbone").get_weights()
    pretrained = keras_hub.models.BertBackbone.from_preset(str(preset)).get_weights()
    # A few steps at 1e-5 move each weight by about 1e-4; a fresh init differs by about 0.02.
    assert max(float(np.abs(a - b).max()) for a, b in zip(tuned, pretrained, strict=True)) < 2e-3
    with pytest.raises(zoo.ZooError, match="takes at most 16 tokens"):
        zoo.create_model("bert", 2, preset=str(preset), sequence_length=64)


@pytest.mark.slow
def test_the_same_command_finds_the_run_finished(pretrained_run):
    written = (pretrained_run / "preset" / "model.weights.h5").stat().st_mtime_ns
    assert "has finished already" in pretrain(pretrained_run).stdout
    assert (pretrained_run / "preset" / "model.weights.h5").stat().st_mtime_ns == written


@pytest.mark.slow
def test_a_pretraining_run_is_not_exported(pretrained_run):
    with pytest.raises(zoo.ZooError, match="run is not exported: fine-tune its preset/"):
        export_run(pretrained_run, formats=("saved_model",))


def test_mr_corpus_is_the_classification_training_split_only():
    splits, classification = TASK.load_data("mr", seed=3), load_text_dataset("mr", seed=3)
    assert splits.class_names == [] and splits.digest == classification.digest
    texts = [text for text, _ in splits.train.as_numpy_iterator()]
    assert texts == [text for text, _ in classification.train.as_numpy_iterator()]


def test_file_corpus_skips_blank_lines_and_splits_by_seed(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(f"text number {i}" if i % 3 else "  " for i in range(30)) + "\n")
    splits = TASK.load_data(f"file:{corpus}", seed=0)
    train = {text.decode() for text, _ in splits.train.as_numpy_iterator()}
    validation = {text.decode() for text, _ in splits.validation.as_numpy_iterator()}
    assert (len(train), len(validation), int(splits.test.cardinality())) == (18, 2, 0)
    assert train | validation == {f"text number {i}" for i in range(30) if i % 3}
    assert (
        splits.digest == TASK.load_data(f"file:{corpus}", seed=0).digest != TASK.load_data(f"file:{corpus}", 1).digest
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset=no_such_corpus"], "Unknown dataset 'no_such_corpus'"),
        (["--dataset=file:/no/such/corpus.txt"], "Cannot read corpus file '/no/such/corpus.txt'"),
        (["--dataset=file:{empty}"], "holds 0 line(s) of text"),
        (["--dataset=file:{empty}", "--preset=/some/preset/dir"], "pass --preset as one of bert_tiny"),
        (["--dataset=file:{empty}", "--model=bert"], "'bert' is a text_classification model"),
        (["--dataset=file:{empty}", "--augment"], "Unknown command line flag 'augment'"),
        (["--dataset=file:{empty}", "--export=all"], "--export is for classifiers"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, message, tmp_path):
    (tmp_path / "empty.txt").write_text("\n \n")
    args = [arg.format(empty=tmp_path / "empty.txt") for arg in args]
    result = run(pretrain_text.main, f"--model_dir={tmp_path}/run", *args, check=False)
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()


def test_bert_classifier_reloads_a_vocabulary_with_whitespace_in_words(tmp_path):
    """The benchmark's random-init arm: MR's word vocabulary holds "here\x85" besides "here"."""
    model = zoo.create_model("bert", 2, vocabulary=["here", "here\x85", "film"], sequence_length=8)
    model.save(tmp_path / "bert.keras")
    restored = keras.saving.load_model(tmp_path / "bert.keras")
    np.testing.assert_array_equal(restored(np.array(["here film"])), model(np.array(["here film"])))


def test_masking_follows_berts_rule_and_the_batch_alone_decides_it():
    """15% of each text's non-special tokens chosen (ceil, capped), 80% of them [MASK], 10% random, 10% kept."""
    masker = masking.SeededMaskGenerator(
        vocabulary_size=1000,
        mask_selection_rate=0.15,
        mask_token_id=4,
        mask_selection_length=12,
        unselectable_token_ids=[0, 2, 3],
    )
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 62, size=512)
    ids = np.zeros((512, 64), np.int32)
    for row, length in enumerate(lengths):
        ids[row, : length + 2] = [2, *rng.integers(5, 1000, size=length), 3]

    def mask(batch):  # in a tf.data map, as in training (eager calls take keras-hub's Python path)
        return {
            key: np.asarray(value)
            for key, value in tf.data.Dataset.from_tensors(batch).map(masker).get_single_element().items()
        }

    out = mask(ids)
    np.testing.assert_array_equal(out["mask_weights"].sum(1), np.minimum(np.ceil(0.15 * lengths), 12))
    real = out["mask_weights"] > 0
    positions = np.where(real, out["mask_positions"], 0)
    assert all((np.diff(row[chosen]) > 0).all() for row, chosen in zip(positions, real))  # in order, no repeats
    np.testing.assert_array_equal(np.take_along_axis(ids, positions, 1)[real], out["mask_ids"][real])
    assert not np.isin(out["mask_ids"][real], [0, 2, 3]).any()
    unchosen = np.ones_like(ids, bool)
    for row, chosen in enumerate(real):
        unchosen[row, positions[row][chosen]] = False
    np.testing.assert_array_equal(out["token_ids"][unchosen], ids[unchosen])
    placed = np.take_along_axis(out["token_ids"], positions, 1)[real]
    assert 0.75 < np.mean(placed == 4) < 0.85 and 0.06 < np.mean(placed == out["mask_ids"][real]) < 0.14
    np.testing.assert_array_equal(mask(ids)["token_ids"], out["token_ids"])
    other = mask(ids[::-1])["token_ids"][::-1]
    assert not np.array_equal(other, out["token_ids"]), "another batch (here: the same texts reordered) masks anew"
