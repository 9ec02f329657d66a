"""English -> Chinese translation: the data, the scoring, and the translate app end to end on tiny pairs."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from export import operators, predict
from helpers import assert_one_line_error, run, write_pairs
from zoo.datasets.translation import load_translation_dataset, read_tsv, split_by_source, tatoeba_rows
from zoo.tasks import translation_metrics as scoring
from zoo.text.seq2seq import Translator
from zoo_apps import translate

TINY = ["--epochs=1", "--batch_size=8", "--sequence_length=24", "--max_tokens=40"]


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("pairs") / "pairs.tsv")


@pytest.fixture(scope="module")
def finished_run(pairs_file, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("run") / "translate"
    run(translate.main, f"--dataset=tsv:{pairs_file}", f"--model_dir={model_dir}", *TINY)
    return model_dir


@pytest.fixture(scope="module")
def exported_run(finished_run):
    report = export.export_run(finished_run, formats=("saved_model", "float32", "dynamic"))
    return finished_run, report


def test_embedded_pairs_split_by_english_sentence():
    rows = tatoeba_rows()
    assert len(rows) == 26_099 and all(len(row) == 3 and row[2].startswith("#") for row in rows)
    splits = load_translation_dataset("tatoeba_en_zh", seed=0)
    parts = splits.extras["pairs"]
    sources = {name: {source for source, _ in part} for name, part in parts.items()}
    assert not sources["train"] & sources["test"] and not sources["validation"] & sources["test"]
    assert not sources["train"] & sources["validation"]
    assert sum(len(part) for part in parts.values()) == 26_099
    assert 0.09 < len(sources["test"]) / len(rows) < 0.11
    other = load_translation_dataset("tatoeba_en_zh", seed=1)
    assert other.digest != splits.digest
    assert load_translation_dataset("tatoeba_en_zh", seed=0).digest == splits.digest


def test_every_translation_of_a_sentence_stays_in_one_split():
    pairs = [(f"s{index % 20}", f"t{index}") for index in range(60)]  # 3 translations each
    parts = split_by_source(pairs, seed=3)
    assert sum(map(len, parts)) == 60 and all(len(part) % 3 == 0 for part in parts)


def test_tsv_lines_and_their_errors(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text("Hi.\t你好。\textra column\n\nBye.\t再见。\n", encoding="utf-8")
    assert read_tsv(good) == [("Hi.", "你好。"), ("Bye.", "再见。")]
    bad = tmp_path / "bad.tsv"
    bad.write_text("Hi.\t你好。\nno tab here\n", encoding="utf-8")
    with pytest.raises(zoo.ZooError, match="line 2 has no tab"):
        read_tsv(bad)
    bad.write_text("Hi.\t \n", encoding="utf-8")
    with pytest.raises(zoo.ZooError, match="line 1 has an empty target"):
        read_tsv(bad)
    bad.write_bytes("Hi.\t你好。\n".encode("gb18030"))
    with pytest.raises(zoo.ZooError, match="not UTF-8"):
        read_tsv(bad)


def test_bad_data_and_options_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("Hi.\t你好。\nBye. 再见。\n", encoding="utf-8")
    result = run(translate.main, f"--dataset=tsv:{bad}", f"--model_dir={tmp_path / 'a'}", check=False)
    assert_one_line_error(result, "bad.tsv line 2 has no tab")
    result = run(translate.main, "--dataset=nowhere", f"--model_dir={tmp_path / 'b'}", check=False)
    assert_one_line_error(result, "Unknown translation dataset")
    result = run(translate.main, "--num_beams=0", f"--model_dir={tmp_path / 'c'}", check=False)
    assert_one_line_error(result, "--num_beams must be 1")
    result = run(translate.main, "--model=textcnn", f"--model_dir={tmp_path / 'd'}", check=False)
    assert_one_line_error(result, "not a translation one")


def test_scores_by_hand():
    references = [["我有猫。", "我养猫。"], ["你好。"], ["再见。"]]
    perfect = scoring.score(["我有猫。", "你好。", "再见。"], references, baseline=["我有狗。", "你好。", "再见。"])
    assert perfect["model"]["bleu"] == pytest.approx(100) and perfect["model"]["chrf"] == pytest.approx(100)
    assert perfect["model"]["chrf_interval"] == pytest.approx([100, 100])  # BLEU of 3-token sentences alone is 0
    assert perfect["difference"]["chrf"] > 0 and perfect["difference"]["chrf_interval"][0] >= 0
    assert scoring.reference_streams(references) == [["我有猫。", "你好。", "再见。"], ["我养猫。", None, None]]
    train = [("I have a cat.", "我有一只猫。"), ("I have a cat.", "我养了一只猫。"), ("Good bye.", "再见。")]
    assert scoring.nearest_neighbour(train, ["i have a cat", "bye!"]) == ["我有一只猫。", "再见。"]


@pytest.mark.slow
def test_the_run_writes_its_scores_card_and_a_model_that_translates_strings(finished_run):
    metrics = json.loads((finished_run / "metrics.json").read_text())
    for system in ("test", "baseline", "difference"):
        assert {"bleu", "bleu_interval", "chrf", "chrf_interval"} <= set(metrics[system])
    assert metrics["test"]["sentences"] >= 4 and metrics["decoding"] == "greedy"
    assert len(metrics["examples"]["good"]) == len(metrics["examples"]["bad"]) == 5
    card = (finished_run / "MODEL_CARD.md").read_text()
    assert "TF-IDF cosine" in card and "Bad examples" in card and ".translate(" in card
    config = json.loads((finished_run / "config.json").read_text())
    assert config["run"]["task"] == "translation" and config["data"]["pairs"]["train"] > 30
    model = keras.saving.load_model(finished_run / "model.keras")
    assert isinstance(model, Translator)
    assert isinstance(model.translate("I have two cats."), str)
    assert model.network.input["source_ids"].dtype == "int32"


@pytest.mark.slow
def test_bad_input_gets_a_clear_answer(finished_run):
    model = keras.saving.load_model(finished_run / "model.keras")
    answers = model.translate(["", "cat " * 2500, "I have 🐱 cats 🎉.", "Ich habe zwei Katzen."])
    assert len(answers) == 4 and all(isinstance(answer, str) for answer in answers)
    assert all(len(answer) <= model.sequence_length - 1 for answer in answers)
    with pytest.raises(zoo.ZooError, match="str or a list of str"):
        model.translate(b"bytes")
    with pytest.raises(zoo.ZooError, match="str or a list of str"):
        model.translate([1, 2])


@pytest.mark.slow
def test_the_export_holds_the_decoding_loop_in_builtin_operators_and_agrees_with_keras(exported_run):
    model_dir, report = exported_run
    rows = {row["file"]: row for row in report["files"]}
    assert set(rows) == {"model.keras", "saved_model", "model_float32.tflite", "model_dynamic.tflite"}
    for name in ("model_float32.tflite", "model_dynamic.tflite"):
        content = (model_dir / "export" / name).read_bytes()
        assert "WHILE" in operators.check_builtin_operators(content, name)  # raises on a non-builtin one
        assert rows[name]["latency_ms"]["median"] > 0 and rows[name]["gate"]["passed"]
        sidecar = json.loads((model_dir / "export" / name).with_suffix(".json").read_text())
        special = ["[PAD]", "[UNK]", "[START]", "[END]"]
        assert sidecar["source_vocabulary"][:4] == sidecar["target_vocabulary"][:4] == special
        assert sidecar["inputs"][0]["dtype"] == sidecar["outputs"][0]["dtype"] == "int32"
    for name in ("saved_model", "model_float32.tflite"):
        assert rows[name]["identical"] == 1.0 and rows[name]["bleu_drop"] == 0.0
    assert {"bleu_drop_interval", "chrf_drop_interval"} <= set(rows["model_dynamic.tflite"])
    assert report["recommended"]["file"] in rows


@pytest.mark.slow
def test_predictor_translates_strings_as_keras_does(exported_run):
    model_dir, _ = exported_run
    model = keras.saving.load_model(model_dir / "model.keras")
    texts = ["I have two cats.", "I have three dogs.", "How are you?", "cat " * 2500, "I have 🐱 cats 🎉."]
    predictor = export.Predictor(model_dir / "export/model_float32.tflite")
    assert predictor.predict(texts) == model.translate(texts)
    assert predictor.predict("I have two cats.") == [model.translate("I have two cats.")]


@pytest.mark.slow
def test_export_predict_prints_translations_and_refuses_bad_input(exported_run):
    model_dir, _ = exported_run
    model = keras.saving.load_model(model_dir / "model.keras")
    file = f"--model={model_dir / 'export/model_dynamic.tflite'}"
    result = run(predict.cli, file, "How are you?", "x" * 10_000, "🐱🎉")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[0] == f"How are you?: {model.translate('How are you?')}"
    assert "(10,000 characters)" in lines[1] and lines[2].startswith("🐱🎉: ")
    assert_one_line_error(run(predict.cli, file, "", check=False), "Nothing to translate")
    predictor = export.Predictor(model_dir / "export/model_dynamic.tflite")
    for bad in (b"bytes", [1, 2], []):
        with pytest.raises(zoo.ZooError, match="translates text"):
            predictor.predict(bad)


@pytest.mark.slow
def test_a_tiny_transformer_learns_its_pairs(pairs_file):
    """Trained to memorize 36 pairs, greedy and beam decoding give their targets back."""
    splits = load_translation_dataset(f"tsv:{pairs_file}", seed=0)
    keras.utils.set_random_seed(0)
    small = dict(hidden_dim=32, intermediate_dim=64, num_layers=1, sequence_length=24, dropout=0.0)
    model = zoo.get_task("translation").build_model("transformer_seq2seq", splits, small, None)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
    )
    train = splits.extras["pairs"]["train"]
    sources, targets = [s for s, _ in train], [t for _, t in train]
    batches = tf.data.Dataset.from_tensor_slices((sources, targets)).batch(36).repeat()
    model.fit(batches, steps_per_epoch=120, epochs=1, verbose=0)
    assert np.mean(np.array(model.translate(sources)) == np.array(targets)) > 0.9
    beams = Translator(model.network, model.source_vocabulary, model.target_vocabulary, 24, num_beams=3)
    assert np.mean(np.array(beams.translate(sources)) == np.array(targets)) > 0.9


@pytest.mark.slow
def test_gru_attention_runs_end_to_end(pairs_file, tmp_path):
    arguments = ("--model=gru_attention", f"--dataset=tsv:{pairs_file}", f"--model_dir={tmp_path}", *TINY)
    metrics = run(translate.main, *arguments, "--export=float32,int8").value
    assert metrics["model"] == "gru_attention" and 0 <= metrics["test"]["chrf"] <= 100
    model = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(model.translate("I have one dog."), str)
    report = json.loads((tmp_path / "export/report.json").read_text())
    rows = {row["file"]: row for row in report["files"]}
    assert rows["model_float32.tflite"]["identical"] >= 0.99 and "WHILE" in rows["model_float32.tflite"]["operators"]
    assert "model_int8.tflite" not in rows and "calibrator crashes" in report["not_written"]["model_int8.tflite"]
    texts = ["I have one dog.", "I have two cats."]
    assert export.Predictor(tmp_path / "export/model_float32.tflite").predict(texts) == model.translate(texts)
