"""What a task is: everything that differs between, say, image classification and regression.

The app core (`zoo_apps.core`), the run folder, export (`export.export_run`,
`export.Predictor`) and the model card ask the task instead of branching on it,
so a new task is one module here plus its model builders (see README, "Adding a task").
"""

import dataclasses

import numpy as np

from zoo import registry
from zoo.errors import ZooError


@dataclasses.dataclass
class Dataset:
    """A catalog entry: how `--dataset` names it, what it is, and what a model trained on it can't do."""

    name: str
    description: str
    limitation: str = ""


@dataclasses.dataclass
class ExportData:
    """What `export.export_run` needs from a run.

    Attributes:
        tflite_model: the part of the model that TFLite runs (often all of it).
        inputs: raw inputs as the Keras model and the SavedModel take them: every input the
            run has (training and validation, up to `AGREEMENT_EXAMPLES`), the test split last,
            so that agreement with Keras is measured on thousands of inputs.
        labels: the test split's labels (ints for classification, floats for regression);
            they belong to the last `len(labels)` inputs.
        calibration: a few hundred training inputs as `tflite_model` takes them (for int8).
        metadata: sidecar entries: task, labels, what the input is (and a tokenizer).
    """

    tflite_model: object
    inputs: object
    labels: np.ndarray
    calibration: list
    metadata: dict


AGREEMENT_EXAMPLES = 10_000  # at most this many training and validation inputs besides the test split


class Task:
    """The base of every task; subclasses set the attributes and override what differs."""

    name = None  # e.g. "image_classification"; models register under it
    app = None  # the module that trains it: python -m zoo_apps.<app>
    default_model = None
    default_dataset = None
    catalog = ()  # Dataset entries; patterns such as folder:DIR are entries too
    input_description = None  # for the model card
    output_description = None
    output_name = "logits"  # the SavedModel signature's output
    report_columns = ()  # keys of `compare` shown in the export table; the first is the headline
    history_metrics = ("loss",)  # plotted per epoch from history.csv
    data_options = ()  # app options that go to `load_data`; the others go to the model builder

    # Data and models.
    def catalog_help(self):
        return "; ".join(f"{entry.name}: {entry.description}" for entry in self.catalog)

    def dataset_entry(self, dataset):
        """The catalog entry of `dataset` (exact name, or a `kind:` pattern), or None (e.g. tfds names)."""
        kind = dataset.partition(":")[0] + ":" if ":" in dataset else None
        for entry in self.catalog:
            if entry.name == dataset or (kind and entry.name.startswith(kind)):
                return entry
        return None

    def load_data(self, dataset, seed=0, data_dir=None, **options):
        """Returns the `zoo.datasets.Splits` of `dataset`."""
        raise NotImplementedError

    def check(self, model_name, options, recipe):
        """Refuses, with a `ZooError`, settings this task cannot train; before anything is written."""
        tasks = registry.model_info(model_name)["tasks"]
        if self.name not in tasks:
            fitting = ", ".join(registry.list_models(task=self.name))
            raise ZooError(
                f"{model_name!r} is a {' / '.join(tasks)} model, not a {self.name} one: use one of {fitting}."
            )

    def check_data(self, model_name, splits, recipe):
        """Refuses data the model cannot take (e.g. images below its minimum size)."""

    def adapt(self, model_name, splits, options):
        """Builder kwargs computed from the training split (vocabularies, statistics)."""
        adapter = registry.model_adapter(model_name)
        return adapter(splits, **options) if adapter else {}

    def build_model(self, model_name, splits, options, pretrained):
        """Builds the model for `splits` (call inside the strategy's scope)."""
        from zoo.factory import create_model

        kwargs = {name: value for name, value in options.items() if name not in self.data_options}
        if not pretrained:
            kwargs.update(self.adapt(model_name, splits, kwargs))
        return create_model(
            model_name,
            num_classes=splits.num_classes,
            input_shape=splits.input_shape or None,
            pretrained=pretrained,
            **kwargs,
        )

    # Training.
    def compile(self, model, recipe, new_optimizer):
        """Compiles `model`: loss and metrics from `recipe`, optimizers from `new_optimizer()`."""
        raise NotImplementedError

    def training_pipelines(self, splits, recipe, seed):
        """Returns batched `(train, validation)` datasets as `compile`'s loss takes them."""
        raise NotImplementedError

    def callbacks(self, model, splits, folder):
        """Extra Keras callbacks of the chief's training, e.g. samples written to the `RunFolder` every epoch."""
        return []

    # Evaluation and description.
    def evaluate(self, model, splits):
        """Returns `(metrics, outputs)`: metrics.json's task entries and what `write_plots` draws."""
        raise NotImplementedError

    def write_plots(self, folder, outputs):
        """Writes the task's plots into the run folder; returns `[(file, caption)]` for the card."""
        return []

    def headline(self, metrics):
        """One line for the log: the test result."""
        return ""

    def card_metrics(self, metrics):
        """Markdown lines of the model card's Metrics section."""
        return []

    def card_limitations(self, config, metrics):
        """Task-specific Markdown bullet lines of the card's Limitations section."""
        return []

    def card_usage(self, config, model_variable="model"):
        """Python lines of the card's Use section after the model is loaded into `model_variable`."""
        return [f"outputs = {model_variable}(inputs)  # {self.input_description}"]

    def intended_use(self, config):
        return f"{self.name.replace('_', ' ').capitalize()} of inputs like those of `{config['run']['dataset']}`."

    # Export and prediction.
    def export_data(self, config, model, data_dir=None):
        """Returns the run's `ExportData`."""
        raise NotImplementedError

    def serving_model(self, model):
        """The Keras model that the SavedModel serves (the whole model unless only part of it is used)."""
        return model

    def compare(self, outputs, reference, labels):
        """One report row's quality entries: a file's outputs on `ExportData.inputs` against Keras's
        (`reference`) on all of them, and against `labels` on the test split (the last inputs)."""
        raise NotImplementedError

    def gate(self, row, keras_row):
        """Why a file is not fit to ship in place of the Keras model (an empty list: it passes)."""
        return []

    def predictor_inputs(self, predictor, inputs):
        """Checks raw `inputs` and returns them batched as the TFLite file takes them (before quantization)."""
        raise NotImplementedError

    def decode(self, predictor, outputs, top_k=None):
        """Turns a batch of the file's float outputs into answers."""
        raise NotImplementedError
