"""The retrieval head: every item's score for a user; Recall@10, NDCG@10, HitRate@10 and MRR beside a
popularity baseline and matrix factorization fitted on the same split; TFLite files return the top 10.

The TFLite file takes one user index and returns `top_k`, float32 `(1, 2, k)`: row 0 the k best
scores, row 1 their item indices (exact in float32; the sidecar's `item_vocabulary` and `labels.txt`
in the file map them to item ids), best first. Items the user already has are not left out there:
an app drops them (the metrics here leave out the training and validation items).
"""

import keras
import numpy as np

from zoo.recommend import metrics as rec_metrics
from zoo.recommend.layers import in_batch_softmax
from zoo.tasks.base import ExportData, Head

K = rec_metrics.K
MIN_IDENTICAL = 0.99  # the gate: users whose file top-k is Keras's top-k (as a set)
METRIC_NAMES = ("recall@10", "ndcg@10", "hit_rate@10", "mrr")


class TopItems(keras.layers.Layer):
    """Scores `(batch, items)` -> `(batch, 2, k)`: the k best scores and their indices as float32."""

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, scores):
        values, indices = keras.ops.top_k(scores, k=self.k)
        return keras.ops.stack([values, keras.ops.cast(indices, values.dtype)], axis=1)


def all_scores(model, user_ids, batch_size=512):
    """The model's scores of every item for `user_ids` (strings), `(users, items)`."""
    ids = np.asarray(user_ids, object)
    return np.concatenate(
        [np.asarray(model(ids[start : start + batch_size])) for start in range(0, len(ids), batch_size)]
    )


def _relevant(users, items, user_vocabulary, item_vocabulary):
    """One set per vocabulary user of the item indices of `(users, items)`; unknown items count as misses."""
    user_index = rec_metrics.indices(users, user_vocabulary)
    item_index = rec_metrics.indices(items, item_vocabulary)
    unknown = {item: -2 - n for n, item in enumerate(sorted(set(np.asarray(items)[item_index < 0])))}
    sets = [set() for _ in user_vocabulary]
    for user, item, raw in zip(user_index, item_index, items):
        if user >= 0:
            sets[user].add(int(item) if item >= 0 else unknown[raw])
    return sets


def evaluate_scores(score_sets, extras):
    """Test (and validation) metrics of each `{name: users x items scores}` on the run's split."""
    users, items = extras["user_vocabulary"], extras["item_vocabulary"]
    parts = extras["interactions"]
    matrix = lambda part: rec_metrics.interaction_matrix(  # noqa: E731
        rec_metrics.indices(part["user"], users), rec_metrics.indices(part["item"], items), len(users), len(items)
    )
    train, validation = matrix(parts["train"]), matrix(parts["validation"])
    relevant = {
        name: _relevant(parts[name]["user"], parts[name]["item"], users, items) for name in ("validation", "test")
    }
    results = {}
    for name, scores in score_sets.items():
        test = rec_metrics.retrieval_metrics(rec_metrics.top_k_unseen(scores, train + validation), relevant["test"])
        valid = rec_metrics.retrieval_metrics(rec_metrics.top_k_unseen(scores, train), relevant["validation"])
        results[name] = dict(test=test, validation_recall=valid["recall@10"])
    return results, train


class RetrievalHead(Head):
    """`top_k` items for a user: every item's score in Keras, the best k in TFLite."""

    output_name = "top_k"
    description = "every item's score, `(batch, items)`; TFLite: `top_k` float32 (1, 2, 10), scores and item indices"
    report_columns = ("top10_identical", "top10_overlap", "max_abs_diff")
    agreement_column = "top10_identical"
    inputs = ("user",)

    def num_outputs(self, splits):
        return None

    def compile(self, model, recipe, new_optimizer):
        model.compile(optimizer=new_optimizer(), loss=in_batch_softmax)

    def targets(self, splits):
        vocabulary = keras.layers.StringLookup(vocabulary=list(splits.extras["item_vocabulary"]), num_oov_indices=0)
        return lambda x, rating: (x["user_id"], vocabulary(x["item_id"]))

    def evaluate(self, model, splits):
        extras = splits.extras
        scores = all_scores(model, extras["user_vocabulary"])
        train = rec_metrics.interaction_matrix(
            rec_metrics.indices(extras["interactions"]["train"]["user"], extras["user_vocabulary"]),
            rec_metrics.indices(extras["interactions"]["train"]["item"], extras["item_vocabulary"]),
            len(extras["user_vocabulary"]),
            len(extras["item_vocabulary"]),
        )
        sets = dict(
            model=scores,
            popularity=rec_metrics.popularity_scores(train),
            matrix_factorization=rec_metrics.svd_scores(train),
        )
        results, _ = evaluate_scores(sets, extras)
        metrics = dict(
            test=results["model"]["test"],
            validation_recall=results["model"]["validation_recall"],
            reference=dict(
                popularity=results["popularity"]["test"],
                matrix_factorization=dict(
                    **results["matrix_factorization"]["test"],
                    method=f"TruncatedSVD({rec_metrics.SVD_COMPONENTS}) of the training interactions",
                ),
            ),
        )
        return metrics, {}

    def headline(self, metrics):
        test, reference = metrics["test"], metrics["reference"]
        return (
            f"test Recall@10 {test['recall@10']:.4f}, NDCG@10 {test['ndcg@10']:.4f}, HitRate@10 "
            f"{test['hit_rate@10']:.4f} (popularity: Recall@10 {reference['popularity']['recall@10']:.4f}; "
            f"TruncatedSVD: {reference['matrix_factorization']['recall@10']:.4f})"
        )

    def card_metrics(self, metrics):
        rows = [("this model", metrics["test"]), *metrics["reference"].items()]
        lines = [
            f"On the test split (each user's last interactions; {metrics['test']['users']:,} users), top 10 of the "
            "items the user has not rated in training or validation, 95% bootstrap intervals over users:",
            "",
            "| model | " + " | ".join(METRIC_NAMES) + " |",
            "|---|" + "---|" * len(METRIC_NAMES),
        ]
        for name, values in rows:
            cells = [
                f"{values[m]:.4f} ({values[m + '_interval'][0]:.4f}-{values[m + '_interval'][1]:.4f})"
                for m in METRIC_NAMES
            ]
            lines.append(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
        return lines

    def card_usage_output(self, config, model_variable, inputs):
        return [
            "import numpy as np",
            f"scores = {model_variable}({inputs})  # every item's score; best: np.argsort(-scores)[:, :10]",
        ]

    def card_limitations(self, config, metrics):
        return [
            "- Retrieval: it ranks the items of its training split only; new items and users need retraining, "
            "and the scores favour what those users liked then (popularity included)."
        ]

    def export_data(self, model, splits):
        """`ExportData`: the `scorer` plus top-k on user indices, checked on every training user."""
        extras = splits.extras
        k = min(K, len(extras["item_vocabulary"]))
        user_index = keras.Input((), dtype="int32", name="user_index")
        tflite_model = keras.Model(user_index, TopItems(k, name="top_k")(model.get_layer("scorer")(user_index)))
        tflite_model(np.arange(1, 3, dtype=np.int32))  # built once before export
        users = np.array(extras["user_vocabulary"], object)
        calibration = [np.int32(index) for index in range(1, min(len(users), 300) + 1)]
        metadata = dict(output_description=self.description, labels=list(extras["item_vocabulary"]), top_k=k)
        return ExportData(tflite_model, users, users, calibration, metadata, tensor_types=("int8", "float32"))

    def compare(self, outputs, reference, labels):
        """How often a file's top-k items are Keras's (as a set; near-equal scores may swap places)."""
        k = outputs.shape[-1] if outputs.ndim == 3 else K
        mine = _top_indices(outputs, k)
        theirs = _top_indices(reference, k)
        overlap = np.array([len(set(a) & set(b)) / k for a, b in zip(mine, theirs)])
        return dict(
            top10_identical=float(np.mean(overlap == 1.0)),
            top10_overlap=float(np.mean(overlap)),
            max_abs_diff=float(np.abs(_top_scores(outputs, k) - _top_scores(reference, k)).max()),
            agreement_examples=int(len(outputs)),
        )

    def gate(self, row, keras_row):
        if row["top10_identical"] >= MIN_IDENTICAL:
            return []
        return [
            f"gives Keras's top-10 items for {100 * row['top10_identical']:.2f}% of {row['agreement_examples']:,} "
            f"users (gate: {100 * MIN_IDENTICAL:.0f}%)"
        ]

    def decode(self, predictor, outputs, top_k=None):
        """Per user: `{"item", "score", "title"}` dicts, best first (the file's k, or the first `top_k`)."""
        items = predictor.metadata["item_vocabulary"]
        titles = predictor.metadata.get("item_titles")
        answers = []
        for row in outputs:
            count = len(row[0]) if top_k is None else min(top_k, len(row[0]))
            answers.append(
                [
                    dict(item=items[int(i)], score=float(s), title=titles[int(i)] if titles else None)
                    for s, i in zip(row[0][:count], np.rint(row[1][:count]))
                ]
            )
        return answers

    def format_answer(self, answer):
        return "; ".join(f"{a['item']}{' ' + a['title'] if a['title'] else ''} {a['score']:.4f}" for a in answer)


def _top_indices(outputs, k):
    if outputs.ndim == 3:
        return np.rint(outputs[:, 1, :k]).astype(np.int64)
    return np.argsort(-outputs, axis=1, kind="stable")[:, :k]


def _top_scores(outputs, k):
    if outputs.ndim == 3:
        return outputs[:, 0, :k]
    return -np.sort(-outputs, axis=1)[:, :k]
