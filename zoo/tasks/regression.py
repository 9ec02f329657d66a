"""The regression head: one number out per input, mean squared error, RMSE/MAE/R^2 with an interval.

Any input side can take it: an image regressor is `Task(side=ImageInput(), head=RegressionHead())`.
The int8 file returns float32 (`int8_output_type`): an int8 output would clip every value
beyond the calibration data's largest.
"""

import keras
import numpy as np

from zoo import evaluation, plots
from zoo.tasks.arrays import predict_logits
from zoo.tasks.base import Head

MIN_AGREEMENT = 0.99  # the gate: predictions within AGREEMENT_TOLERANCE of Keras's
AGREEMENT_TOLERANCE = 0.05  # of the test targets' standard deviation


class RegressionHead(Head):
    """`prediction`: one float32 value per input, in the target's units."""

    output_name = "prediction"
    description = "`prediction`: float32 (batch, 1), in the target's units"
    report_columns = ("rmse", "agreement", "max_abs_diff")
    agreement_column = "agreement"
    history_metrics = ("loss", "rmse")

    def num_outputs(self, splits):
        return 1

    def compile(self, model, recipe, new_optimizer):
        model.compile(optimizer=new_optimizer(), loss="mse", metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])

    def evaluate(self, model, splits):
        test, test_labels = predict_logits(model, splits.test)
        validation, validation_labels = predict_logits(model, splits.validation)
        metrics = dict(
            test=evaluation.regression_metrics(test[:, 0], test_labels),
            validation_rmse=evaluation.regression_metrics(validation[:, 0], validation_labels)["rmse"],
        )
        return metrics, dict(predictions=test[:, 0], labels=np.asarray(test_labels, np.float64))

    def write_plots(self, folder, outputs):
        plots.plot_regression(outputs["predictions"], outputs["labels"], folder.file("predictions.png"))
        return [("predictions.png", "Predicted vs actual and residuals on the test split")]

    def headline(self, metrics):
        test = metrics["test"]
        return f"test RMSE {test['rmse']:.4g}, R^2 {test['r2']:.4f}"

    def card_metrics(self, metrics):
        test = metrics["test"]
        low, high = test["r2_interval"]
        return [
            f"On the test split ({test['num_examples']:,} examples, never used for training or model selection):",
            "",
            f"- RMSE **{test['rmse']:.4g}**, MAE {test['mae']:.4g}, MSE {test['mse']:.4g}",
            f"- R^2 {test['r2']:.4f} (95% bootstrap interval {low:.4f} to {high:.4f})",
            f"- validation RMSE {metrics['validation_rmse']:.4g}",
        ]

    def card_usage_output(self, config, model_variable, inputs):
        return [f"predictions = {model_variable}({inputs}[:, 0]  # in the target's units"]

    def card_limitations(self, config, metrics):
        return [
            f"- The RMSE comes from {metrics['test']['num_examples']:,} test examples of "
            f"`{config['run']['dataset']}`; outside the targets' range seen in training it extrapolates."
        ]

    def export_labels(self, splits, model, labels):
        return np.asarray(labels, np.float64), dict(output_description=self.description)

    def compare(self, outputs, reference, labels):
        """RMSE on the test split; agreement: predictions within 5% of the test targets' spread of Keras's."""
        spread = max(float(np.std(labels)), 1e-12)
        values = evaluation.regression_metrics(outputs[-len(labels) :, 0], labels)
        close = np.abs(outputs - reference)[:, 0] <= AGREEMENT_TOLERANCE * spread
        return dict(
            rmse=values["rmse"],
            r2=values["r2"],
            agreement=float(np.mean(close)),
            agreement_examples=int(len(outputs)),
            max_abs_diff=float(np.abs(outputs - reference).max()),
        )

    def gate(self, row, keras_row):
        if row["agreement"] >= MIN_AGREEMENT:
            return []
        return [
            f"agrees with Keras (within {100 * AGREEMENT_TOLERANCE:.0f}% of the targets' spread) on "
            f"{100 * row['agreement']:.2f}% of {row['agreement_examples']:,} inputs (gate: {100 * MIN_AGREEMENT:.0f}%)"
        ]

    def decode(self, predictor, outputs, top_k=None):
        return [float(value) for value in outputs[:, 0]]

    def format_answer(self, answer):
        return f"{answer:.6g}"
