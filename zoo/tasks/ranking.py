"""The ranking head: a user's rating of an item; RMSE, MAE and AUC beside the mean rating and matrix
factorization (user and item biases plus TruncatedSVD of the residuals) fitted on the same split.

The TFLite file takes `user_index` and `item_index` (int32; the sidecar's vocabularies map ids to
them) and returns `prediction`, float32 `(1, 1)`, in stars.
"""

import numpy as np

from zoo.recommend import metrics as rec_metrics
from zoo.tasks.base import ExportData
from zoo.tasks.regression import RegressionHead

AGREEMENT_EXAMPLES = 10_000


def _columns(part, extras):
    users = rec_metrics.indices(part["user"], extras["user_vocabulary"])
    items = rec_metrics.indices(part["item"], extras["item_vocabulary"])
    return users, items, np.asarray(part["rating"], np.float64)


def predict_ratings(model, part, batch_size=4096):
    """The model's predicted rating of each `(user, item)` of a split's columns (unknown ids too)."""
    users, items = part["user"].astype(str), part["item"].astype(str)
    outputs = [
        np.asarray(model([users[start : start + batch_size], items[start : start + batch_size]]))
        for start in range(0, len(users), batch_size)
    ]
    return np.concatenate(outputs)[:, 0]


class RankingHead(RegressionHead):
    """`prediction`: the rating a user would give an item, in the data's units (stars)."""

    description = "`prediction`: float32 (batch, 1), the predicted rating"
    report_columns = ("rmse", "agreement", "max_abs_diff")
    inputs = ("user", "item")

    def evaluate(self, model, splits):
        extras, parts = splits.extras, splits.extras["interactions"]
        test = rec_metrics.ranking_metrics(predict_ratings(model, parts["test"]), parts["test"]["rating"])
        validation = rec_metrics.ranking_metrics(
            predict_ratings(model, parts["validation"]), parts["validation"]["rating"]
        )
        references = rec_metrics.ranking_references(
            _columns(parts["train"], extras),
            _columns(parts["test"], extras),
            len(extras["user_vocabulary"]),
            len(extras["item_vocabulary"]),
        )
        return dict(test=test, validation_rmse=validation["rmse"], reference=references), {}

    def write_plots(self, folder, outputs):
        return []

    def headline(self, metrics):
        test, reference = metrics["test"], metrics["reference"]
        auc = "-" if test["auc"] is None else f"{test['auc']:.4f}"
        return (
            f"test RMSE {test['rmse']:.4f}, AUC {auc} (mean rating: RMSE {reference['mean_rating']['rmse']:.4f}; "
            f"matrix factorization: {reference['matrix_factorization']['rmse']:.4f})"
        )

    def card_metrics(self, metrics):
        rows = [("this model", metrics["test"]), *metrics["reference"].items()]
        lines = [
            f"On the test split (each user's last ratings; {metrics['test']['examples']:,} ratings), RMSE with its "
            "95% bootstrap interval; AUC of telling ratings of 4 or more from the others:",
            "",
            "| model | RMSE | MAE | AUC |",
            "|---|---|---|---|",
        ]
        for name, values in rows:
            low, high = values["rmse_interval"]
            auc = "-" if values["auc"] is None else f"{values['auc']:.4f}"
            lines.append(
                f"| {name.replace('_', ' ')} | {values['rmse']:.4f} ({low:.4f}-{high:.4f}) "
                f"| {values['mae']:.4f} | {auc} |"
            )
        return lines + ["", f"- validation RMSE {metrics['validation_rmse']:.4f}"]

    def card_usage_output(self, config, model_variable, inputs):
        return ["import numpy as np", f"ratings = {model_variable}([np.array(['USER_ID']), np.array(['ITEM_ID'])])"]

    def card_limitations(self, config, metrics):
        return [
            f"- Ranking: RMSE from {metrics['test']['examples']:,} test ratings; users and items new since training "
            "get no personal part (the unknown-id embedding)."
        ]

    def export_data(self, model, splits):
        """`ExportData`: the `scorer` on user and item indices, checked on training and test pairs."""
        extras, parts = splits.extras, splits.extras["interactions"]
        train, test = parts["train"], parts["test"]
        keep = slice(0, AGREEMENT_EXAMPLES)
        users = np.concatenate([train["user"][keep], test["user"]]).astype(object)
        items = np.concatenate([train["item"][keep], test["item"]]).astype(object)
        known = np.isin(users, extras["user_vocabulary"]) & np.isin(items, extras["item_vocabulary"])
        labels = np.asarray(test["rating"], np.float64)[known[-len(test["rating"]) :]]
        scorer = model.get_layer("scorer")
        user_index = rec_metrics.indices(users[known], extras["user_vocabulary"]).astype(np.int32) + 1
        item_index = rec_metrics.indices(items[known], extras["item_vocabulary"]).astype(np.int32) + 1
        scorer([user_index[:2], item_index[:2]])  # built once before export
        calibration = [dict(user_index=u, item_index=i) for u, i in zip(user_index[:300], item_index[:300])]
        metadata = dict(output_description=self.description)
        inputs = [users[known], items[known]]
        return ExportData(scorer, inputs, labels, calibration, metadata, tensor_types=("int8", "float32"))
