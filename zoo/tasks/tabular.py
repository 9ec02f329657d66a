"""Tabular regression and classification: table rows in, a value or class logits out, with a
scikit-learn reference fitted on the same split in every run.

One task serves both: the table's schema (`zoo.datasets.tables`) says which, from the
target's values or `--task`; models register for `tabular_regression`,
`tabular_classification` or both.
"""

import keras
import numpy as np

from zoo import datasets, evaluation, registry
from zoo.datasets.tables import CLASSIFICATION, EMBEDDED_TABLES, REGRESSION, load_table_dataset
from zoo.errors import ZooError
from zoo.tabular import inputs as table_inputs
from zoo.tabular import metrics as table_metrics
from zoo.tabular import reference
from zoo.tasks import tabular_plots
from zoo.tasks.base import COMMON_RECIPE_KEYS, Dataset, ExportData, Task
from zoo.tasks.classification import MIN_AGREEMENT, Classification


def _predict(model, features, batch_size=1024):
    return np.asarray(model.predict(features, batch_size=batch_size, verbose=0))


def _squeeze(outputs, schema):
    return outputs[:, 0] if schema["task"] == REGRESSION else outputs


def _ordered(features, names):
    """A features dict as the list of arrays a multi-input model takes (one array for one input)."""
    arrays = [np.asarray(features[name]) for name in names]
    return arrays if len(arrays) > 1 else arrays[0]


class Tabular(Task):
    name = "tabular"
    app = "tabular"
    model_tasks = (REGRESSION, CLASSIFICATION)  # what its models register under (the app lists them)
    default_model = "linear_regression"
    default_dataset = "diabetes"
    catalog = tuple(Dataset(name, description) for name, description in EMBEDDED_TABLES.items()) + (
        Dataset("csv:FILE", "your table: a header row, one example per row; --target names the column to predict"),
    )
    data_options = ("target", "features", "task")
    input_description = "table rows: `numeric` float32 (NaN for missing) and `categorical` int32 vocabulary indices"
    output_description = "`prediction` in the target's units (regression), or `logits`, one per class"
    report_columns = ("quality", "agreement", "max_abs_diff")
    agreement_column = "agreement"
    recipe_keys = (*COMMON_RECIPE_KEYS, "label_smoothing")  # quality: accuracy, or R^2 for regression

    def load_data(self, dataset, seed=0, data_dir=None, target=None, features=None, task=None, **unused):
        return load_table_dataset(dataset, seed=seed, target=target, features=features, task=task)

    def check(self, model_name, options, recipe):
        tasks = registry.model_info(model_name)["tasks"]
        if not set(tasks) & {REGRESSION, CLASSIFICATION}:
            fitting = ", ".join(
                sorted(set(registry.list_models(task=REGRESSION) + registry.list_models(task=CLASSIFICATION)))
            )
            raise ZooError(f"{model_name!r} is a {' / '.join(tasks)} model, not a tabular one: use one of {fitting}.")

    def check_data(self, model_name, splits, recipe):
        kind = splits.extras["schema"]["task"]
        if kind not in registry.model_info(model_name)["tasks"]:
            fitting = ", ".join(registry.list_models(task=kind))
            raise ZooError(
                f"{splits.name} is a {kind.replace('_', ' ')} table and {model_name} does not do that: use {fitting}."
            )

    def compile(self, model, recipe, new_optimizer):
        if model.output_shape[-1] == 1 and "prediction" in [layer.name for layer in model.layers]:
            model.compile(
                optimizer=new_optimizer(), loss="mse", metrics=[keras.metrics.RootMeanSquaredError(name="rmse")]
            )
        else:
            Classification.compile(self, model, recipe, new_optimizer)

    def training_pipelines(self, splits, recipe, seed):
        train = datasets.batched(splits.train, recipe["batch_size"], shuffle_seed=seed)
        validation = datasets.batched(splits.validation, recipe["batch_size"])
        if splits.extras["schema"]["task"] == CLASSIFICATION:  # one-hot labels, as the classification head takes
            targets = Classification().targets(splits)
            return train.map(targets), validation.map(targets)
        return train, validation

    def evaluate(self, model, splits):
        schema, arrays = splits.extras["schema"], splits.extras["arrays"]
        (test, test_labels), (validation, validation_labels) = arrays["test"], arrays["validation"]
        test_outputs = _predict(model, test)
        metrics = dict(
            task=schema["task"],
            target=schema["target"],
            schema=schema,
            test=table_metrics.tabular_metrics(_squeeze(test_outputs, schema), test_labels, schema),
            validation=table_metrics.tabular_metrics(
                _squeeze(_predict(model, validation), schema), validation_labels, schema
            ),
            reference=reference.fit_references(arrays, schema),
        )
        if model.name in ("linear_regression", "logistic_regression"):
            metrics["coefficients"] = reference.linear_coefficients(model, schema)
            if schema["task"] == REGRESSION:
                metrics["reference_coefficients"] = reference.sklearn_linear_coefficients(arrays, schema)
        return metrics, dict(outputs=test_outputs, labels=test_labels, schema=schema)

    def write_plots(self, folder, outputs):
        return tabular_plots.write(folder, outputs["outputs"], outputs["labels"], outputs["schema"])

    def headline(self, metrics):
        test = metrics["test"]
        if metrics["task"] == REGRESSION:
            theirs = metrics["reference"]["linear_regression"]["r2"]
            return f"test R^2 {test['r2']}, RMSE {test['rmse']} (scikit-learn linear regression: R^2 {theirs})"
        best = max(metrics["reference"].items(), key=lambda item: item[1]["accuracy"])
        return f"test accuracy {test['accuracy']:.4f} (scikit-learn {best[0]}: {best[1]['accuracy']:.4f})"

    def card_metrics(self, metrics):
        return tabular_plots.card_metrics(metrics)

    def card_limitations(self, config, metrics):
        count = metrics["test"]["num_examples"]
        return [
            f"- Measured on {count:,} test rows of `{config['run']['dataset']}`: a small sample (see the intervals); "
            "rows from another population (hospital, time, instrument) can behave differently.",
            "- It finds associations in the table, not causes; a column that leaks the target makes it look better "
            "than it is.",
        ]

    def intended_use(self, config):
        return (
            f"Predicting the {'class' if config.get('class_names') else 'target value'} of rows like those of "
            f"`{config['run']['dataset']}`, as a baseline beside the scikit-learn references in every run."
        )

    # Export: TFLite runs the model after its numeric preprocessing (`standardized_model`): one int8
    # scale cannot cover raw columns of different ranges. The sidecar's schema standardizes in Python.
    def export_data(self, config, model, data_dir=None):
        run = config["run"]
        splits = self.load_data(run["dataset"], run["seed"], **run["options"])
        schema, arrays = splits.extras["schema"], splits.extras["arrays"]
        names = [tensor.name for tensor in model.inputs]
        parts = [arrays[split][0] for split in ("train", "validation", "test")]
        inputs = _ordered({name: np.concatenate([part[name] for part in parts]) for name in names}, names)
        tflite_model = table_inputs.standardized_model(model)
        tflite_names = [tensor.name for tensor in tflite_model.inputs]
        train = _ordered(tabular_plots.model_features(arrays["train"][0], schema), tflite_names)
        train = train if isinstance(train, list) else [train]
        calibration = [tuple(array[row] for array in train) for row in range(min(300, len(train[0])))]
        metadata = dict(
            task=self.name,
            labels=schema["class_names"] or None,
            schema=schema,
            input_names=names,
            input_description="standardized numbers ((x - mean) / std with the schema's training statistics, "
            "0 for missing) and category indices from the schema's vocabularies",
        )
        return ExportData(tflite_model, inputs, arrays["test"][1], calibration, metadata)

    def compare(self, outputs, reference, labels):
        test, keras_test = outputs[-len(labels) :], reference[-len(labels) :]
        if outputs.shape[-1] == 1:  # regression: agreement is a prediction within 5% of the target's spread
            spread = max(float(np.std(labels)), 1e-12)
            values = table_metrics.regression_metrics(test[:, 0], labels)
            close = np.abs(outputs - reference)[:, 0] <= 0.05 * spread
            quality, keras_quality = values["r2"], table_metrics.regression_metrics(keras_test[:, 0], labels)["r2"]
            extra = dict(rmse=values["rmse"], r2=values["r2"])
        else:
            close = outputs.argmax(1) == reference.argmax(1)
            quality = float(np.mean(test.argmax(1) == labels))
            keras_quality = float(np.mean(keras_test.argmax(1) == labels))
            extra = dict(accuracy=quality, accuracy_interval=list(evaluation.wilson_interval(quality, len(labels))))
        return dict(
            quality=quality,
            quality_drop=None if quality is None else keras_quality - quality,
            agreement=float(np.mean(close)),
            agreement_examples=int(len(outputs)),
            max_abs_diff=float(np.abs(outputs - reference).max()),
            **extra,
        )

    def gate(self, row, keras_row):
        if row["agreement"] >= MIN_AGREEMENT:
            return []
        return [f"agrees with Keras on {100 * row['agreement']:.2f}% of {row['agreement_examples']:,} rows (gate: 99%)"]

    def predictor_inputs(self, predictor, rows):
        return tabular_plots.predictor_inputs(predictor, rows)

    def decode(self, predictor, outputs, top_k=None):
        if outputs.shape[-1] == 1:
            return [float(value) for value in outputs[:, 0]]
        return Classification.decode(self, predictor, outputs, top_k)
