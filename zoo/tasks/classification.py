"""The classification head: softmax cross-entropy, accuracy with an interval, labels out.

Image, text (and, with the keyword-spotting side, audio) classification share it.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo import evaluation, plots
from zoo.errors import ZooError
from zoo.explainability import figure
from zoo.tasks.arrays import export_arrays, predict_logits, split_arrays  # noqa: F401 (re-exported)
from zoo.tasks.base import Head

CALIBRATION_EXAMPLES = 300
MIN_AGREEMENT = 0.99  # the gate: top-1 agreement with Keras over every input
MAX_ACCURACY_DROP = 0.003  # the gate: a drop (Keras - file) whose 95% interval lies above this fails


def paired_difference_interval(first_right, second_right, z=1.96):
    """95% interval of accuracy(first) - accuracy(second) measured on the same examples (paired)."""
    first_right, second_right = np.asarray(first_right, bool), np.asarray(second_right, bool)
    count = len(first_right)
    only_first = np.sum(first_right & ~second_right)
    only_second = np.sum(second_right & ~first_right)
    difference = (only_first - only_second) / count
    spread = z * np.sqrt(max(only_first + only_second - (only_first - only_second) ** 2 / count, 0)) / count
    return float(difference - spread), float(difference + spread)


def test_examples(split, indices):
    """The raw inputs at `indices` (in split order) of an unbatched split; texts as `str`."""
    if not len(indices):
        return []
    wanted = {int(i): n for n, i in enumerate(indices)}
    found = [None] * len(indices)
    for index, (x, _) in enumerate(split.take(max(wanted) + 1).as_numpy_iterator()):
        if index in wanted:
            found[wanted[index]] = x.decode("utf-8", "replace") if isinstance(x, bytes) else x
    return found


def confusion(predictions, labels, num_classes):
    """Counts `[true class][predicted class]` as nested lists (metrics.json)."""
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(predictions)), 1)
    return counts.tolist()


def group_accuracies(right, groups):
    """`{group: {accuracy, examples}}` for per-example `groups` (such as test voices), sorted by name."""
    right, groups = np.asarray(right, bool), np.asarray(groups)
    return {
        str(group): dict(accuracy=float(np.mean(right[groups == group])), examples=int(np.sum(groups == group)))
        for group in sorted(set(groups.tolist()))
    }


def calibration_inputs(split):
    """The first `CALIBRATION_EXAMPLES` inputs of an unbatched `(x, y)` split, as numpy arrays."""
    return [x for x, _ in split.take(CALIBRATION_EXAMPLES).as_numpy_iterator()]


class ClassificationHead(Head):
    """Logits out, one per class; labels in labels.txt and the file's metadata; accuracy with an interval."""

    history_metrics = ("loss", "accuracy")
    report_columns = ("accuracy", "top1_agreement", "max_abs_diff")
    agreement_column = "top1_agreement"
    new_classes_fine_tune = True
    recipe_keys = ("label_smoothing", "head_epochs", "head_learning_rate")  # a head-only warm-up: zoo_apps.phases
    description = "`logits`: one score per class, no softmax (apply `keras.ops.softmax` for probabilities)"

    def num_outputs(self, splits):
        return splits.num_classes

    def compile(self, model, recipe, new_optimizer):
        model.compile(
            optimizer=new_optimizer(),
            # Keras 3's sparse cross-entropy has no label smoothing: labels are one-hot.
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=recipe["label_smoothing"]),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        )

    def targets(self, splits):
        return lambda x, y: (x, tf.one_hot(y, splits.num_classes))

    def evaluate(self, model, splits):
        test_logits, test_labels = predict_logits(model, splits.test)
        val_logits, val_labels = predict_logits(model, splits.validation)
        predictions = test_logits.argmax(1)
        test = evaluation.classification_metrics(test_logits, test_labels, splits.class_names)
        test["confusion_matrix"] = confusion(predictions, test_labels, splits.num_classes)
        groups = splits.extras.get("test_groups")  # e.g. each test clip's voice: accuracy per group
        if groups is not None:
            test["per_group"] = group_accuracies(predictions == test_labels, groups)
        metrics = dict(test=test, validation_accuracy=float(np.mean(val_logits.argmax(1) == val_labels)))
        chosen = figure.chosen_examples(predictions, test_labels)
        examples = (model, test_examples(splits.test, chosen), test_labels[chosen], predictions[chosen])
        return metrics, dict(
            predictions=predictions, labels=test_labels, class_names=splits.class_names, examples=examples
        )

    def write_plots(self, folder, outputs):
        plots.plot_confusion_matrix(
            outputs["predictions"], outputs["labels"], outputs["class_names"], folder.file("confusion_matrix.png")
        )
        written = [("confusion_matrix.png", "Confusion matrix on the test split")]
        if "examples" in outputs and figure.write_attribution_figure(
            *outputs["examples"], outputs["class_names"], folder.file(figure.FILE)
        ):
            written.append((figure.FILE, "Integrated Gradients on test examples it got right and wrong"))
        return written

    def headline(self, metrics):
        test = metrics["test"]
        return f"test accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}"

    def card_metrics(self, metrics):
        test = metrics["test"]
        count = test["num_examples"]
        low, high = evaluation.wilson_interval(test["accuracy"], count)
        auc = f", one-vs-rest AUC {test['auc_ovr']:.4f}" if test.get("auc_ovr") else ""
        lines = [
            f"On the test split ({count:,} examples, never used for training or model selection):",
            "",
            f"- accuracy **{test['accuracy']:.4f}** (95% interval {low:.4f}-{high:.4f})",
            f"- macro-F1 {test['macro_f1']:.4f}{auc}",
            f"- validation accuracy {metrics['validation_accuracy']:.4f}",
            "",
            "| class | precision | recall | support |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['support']} |"
            for name, row in test["per_class"].items()
        ]
        groups = test.get("per_group") or {}
        lines += ["", "| test group (e.g. voice) | accuracy | examples |", "|---|---|---|"] * bool(groups)
        return lines + [f"| {name} | {row['accuracy']:.3f} | {row['examples']} |" for name, row in groups.items()]

    def card_usage_output(self, config, model_variable, inputs):
        return [f"logits = {model_variable}({inputs}", "probabilities = keras.ops.softmax(logits)"]

    def card_limitations(self, config, metrics):
        count = metrics["test"]["num_examples"]
        low, high = evaluation.wilson_interval(metrics["test"]["accuracy"], count)
        return [
            f"- The accuracy comes from {count:,} test examples of `{config['run']['dataset']}`: the true value "
            f"on that distribution lies about in {low:.4f}-{high:.4f}; on other data it can be far lower.",
            f"- It always answers with one of its {len(config['class_names'])} classes, also for inputs "
            "that belong to none (no out-of-distribution detection): check inputs before trusting it.",
        ]

    def intended_use(self, config, task_name):
        return (
            f"Classifying inputs like those of `{config['run']['dataset']}` into its "
            f"{len(config['class_names'])} classes; a reference result to compare against, a starting point "
            "for fine-tuning on similar data, and a small model to try on-device deployment with."
        )

    def export_labels(self, splits, model, labels):
        if splits.num_classes != model.output_shape[-1]:
            raise ZooError(
                f"Dataset {splits.name} has {splits.num_classes} classes but the model has "
                f"{model.output_shape[-1]} outputs: export with the data the run was trained on."
            )
        return labels, dict(labels=splits.class_names, output_description=self.description)

    def compare(self, outputs, reference, labels):
        predictions, keras_predictions = outputs.argmax(axis=1), reference.argmax(axis=1)
        right = predictions[-len(labels) :] == labels
        keras_right = keras_predictions[-len(labels) :] == labels
        accuracy = float(np.mean(right))
        return dict(
            accuracy=accuracy,
            accuracy_interval=list(evaluation.wilson_interval(accuracy, len(labels))),
            accuracy_drop=float(np.mean(keras_right) - accuracy),
            accuracy_drop_interval=list(paired_difference_interval(keras_right, right)),
            top1_agreement=float(np.mean(predictions == keras_predictions)),
            agreement_examples=int(len(outputs)),
            max_abs_diff=float(np.abs(outputs - reference).max()),
        )

    def gate(self, row, keras_row):
        reasons = []
        if row["top1_agreement"] < MIN_AGREEMENT:
            reasons.append(
                f"agrees with Keras on {100 * row['top1_agreement']:.2f}% of {row['agreement_examples']:,} inputs "
                f"(gate: {100 * MIN_AGREEMENT:.0f}%)"
            )
        low, high = row["accuracy_drop_interval"]
        if low > MAX_ACCURACY_DROP:
            reasons.append(
                f"loses {100 * row['accuracy_drop']:.2f} accuracy points on the test split (95% interval "
                f"{100 * low:.2f} to {100 * high:.2f}; gate: {100 * MAX_ACCURACY_DROP:.1f})"
            )
        return reasons

    def decode(self, predictor, outputs, top_k=None):
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ZooError(f"top_k must be a positive int or None (all labels). Received: top_k={top_k!r}")
        labels = predictor.metadata.get("labels") or [str(index) for index in range(outputs.shape[-1])]
        if len(labels) != outputs.shape[-1]:
            raise ZooError(
                f"{predictor.path.name}'s sidecar has {len(labels)} labels for {outputs.shape[-1]} outputs: "
                "export it again with one label per output."
            )
        probabilities = evaluation.softmax(outputs)
        order = np.argsort(-probabilities, axis=-1)[:, :top_k]
        return [[(labels[index], float(row[index])) for index in indices] for row, indices in zip(probabilities, order)]

    def format_answer(self, answer):
        return ", ".join(f"{label} {score:.3f}" for label, score in answer)


# The name tasks built before the input side / head split subclass.
Classification = ClassificationHead
