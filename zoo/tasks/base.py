"""What a task is: an input side (what goes in) plus a head (what comes out).

An **input side** (`InputSide`) loads and checks raw data, batches it, gives calibration data, turns what a
user hands `export.Predictor` or `python -m export.predict` into the file's input tensor, and describes the
input in the file's metadata. A **head** (`Head`) owns the loss, metrics, evaluation and plots, how Keras and
TFLite outputs are compared and gated, the report and card columns, the output's quantization, decoding and
metadata. Image classification is `ImageInput` + `ClassificationHead`; an image regressor is `ImageInput` +
`RegressionHead`, with no code of its own besides its name.

The app core (`zoo_apps.core`), the run folder, export (`export.export_run`, `export.Predictor`) and the model
card ask the task, which asks its side or its head, so a new task is one module here plus its model builders
(see README, "Adding a task"). Tasks that are not (yet) a side plus a head override the `Task` methods themselves.
"""

import dataclasses

import numpy as np

from zoo import registry
from zoo.errors import ZooError
from zoo.tasks.arrays import AGREEMENT_EXAMPLES, export_arrays  # noqa: F401 (AGREEMENT_EXAMPLES re-exported)

# Recipe keys that every task uses; a side or a head adds its own (`augment`, `label_smoothing`).
COMMON_RECIPE_KEYS = ("epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule", "weight_decay")


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
        inputs: raw inputs as the Keras model and the SavedModel take them: training and validation inputs (up
            to `AGREEMENT_EXAMPLES`), then the test split, so that agreement is measured on thousands of inputs.
        labels: the test split's labels (ints for classification, floats for regression), of the last inputs.
        calibration: a few hundred training inputs as `tflite_model` takes them (for int8).
        metadata: sidecar entries from the side (what the input is) and the head (what the output is).
        tensor_types: `(input, output)` numpy dtype names of the int8 file's float input and output.
        unsupported: `{flavour: why}`: TFLite flavours this model is not written as (the report says why)."""

    tflite_model: object
    inputs: object
    labels: np.ndarray
    calibration: list
    metadata: dict
    tensor_types: tuple = ("int8", "int8")
    unsupported: dict = dataclasses.field(default_factory=dict)


class InputSide:
    """What goes in: data, checks, batching, calibration, Predictor inputs, the input's metadata."""

    catalog = ()  # Dataset entries; patterns such as folder:DIR are entries too
    data_options = ()  # app options that go to `load_data`; the others go to the model builder
    recipe_keys = ()  # recipe keys besides `COMMON_RECIPE_KEYS` that this side uses
    description = None  # for the model card; may hold `{shape}`
    int8_input_type = "int8"  # what the int8 file takes for a float input (integer inputs stay as they are)
    mediapipe_task = None  # the MediaPipe Tasks API that runs the files (see `export.mediapipe_tasks`)

    def load_data(self, dataset, seed=0, data_dir=None, **options):
        """Returns the `zoo.datasets.Splits` of `dataset`."""
        raise NotImplementedError

    def check(self, model_name, options, recipe):
        """Refuses, with a `ZooError`, options this side cannot take; before anything is written."""

    def check_data(self, model_name, splits, recipe, num_outputs=None):
        """Refuses data the model cannot take (e.g. images below its minimum size); the head gives `num_outputs`."""

    def adapt(self, model_name, splits, options):
        """Builder kwargs computed from the training split (vocabularies, statistics)."""
        return {}

    def training_pipelines(self, splits, recipe, seed):
        """Batched `(train, validation)`: training shuffled with `seed`."""
        from zoo.datasets import batched

        train = batched(splits.train, recipe["batch_size"], shuffle_seed=seed)
        return train, batched(splits.validation, recipe["batch_size"])

    def raw_inputs(self, inputs):
        """The export inputs as the Keras model takes them (e.g. texts as `str`, not bytes)."""
        return inputs

    def export_inputs(self, config, model, splits):
        """`(tflite_model, calibration, metadata)`: the part of `model` TFLite runs, a few hundred training
        inputs as it takes them, and the sidecar entries that describe the input."""
        raise NotImplementedError

    def predictor_inputs(self, predictor, inputs, **options):
        """Checks raw `inputs` and returns them batched as the TFLite file takes them (before quantization)."""
        raise NotImplementedError

    def read_inputs(self, predictor, args):
        """`(inputs, options)` for `predictor.predict` from `python -m export.predict`'s arguments."""
        return list(args), {}

    def tensor_metadata(self, description, detail):
        """The standard metadata of one input tensor (`export.tflite_metadata.TensorMetadata` fields)."""
        value_range = description.get("input_value_range")
        return dict(
            name=detail["name"],
            description=description.get("input_description", ""),
            min=[float(value_range[0])] if value_range else None,
            max=[float(value_range[1])] if value_range else None,
        )

    def file_metadata(self, description, details):
        """`(tensors, units)`: the standard metadata of each input tensor (`details`, in the file's order) and
        the subgraph's input process units (e.g. a BERT tokenizer), as `export.embedded` writes them."""
        return [self.tensor_metadata(description, detail) for detail in details], []

    def card_usage_input(self, config):
        """The Python expression of the model's input in the card's usage code."""
        return "inputs"

    def card_limitations(self, config):
        return []


class Head:
    """What comes out: loss, metrics, evaluation, plots, comparison and gate, decoding, the output's metadata."""

    output_name = "logits"  # the SavedModel signature's output
    description = None  # for the model card
    report_columns = ()  # keys of `compare` shown in the export table; the first is the headline
    agreement_column = None  # the key of `compare` that says how often a file answers as Keras does
    history_metrics = ("loss",)
    recipe_keys = ()  # recipe keys besides `COMMON_RECIPE_KEYS` that this head uses
    int8_output_type = "float32"  # what the int8 file returns: float32 keeps every value a head may need
    new_classes_fine_tune = False  # whether `create_model(..., pretrained=RUN, num_classes=k)` gives a fresh head
    agreement_examples = AGREEMENT_EXAMPLES  # training and validation inputs export checks files on (besides test)
    latency_runs = None  # (timed runs, warm-up runs per round) of a file's latency; None: export's default
    latency_examples = 1  # last test inputs a file's latency cycles through, one per invoke (>1: input-dependent time)

    def num_outputs(self, splits):
        """The builder's `num_classes`: output units for `splits`."""
        return splits.num_classes or 1

    def compile(self, model, recipe, new_optimizer):
        raise NotImplementedError

    def targets(self, splits):
        """Maps a batched `(x, y)` dataset's labels to what the loss takes (e.g. one-hot); None: as they are."""
        return None

    def evaluate(self, model, splits):
        raise NotImplementedError

    def write_plots(self, folder, outputs):
        return []

    def headline(self, metrics):
        return ""

    def card_metrics(self, metrics):
        return []

    def card_limitations(self, config, metrics):
        return []

    def card_usage_output(self, config, model_variable, inputs):
        return [f"outputs = {model_variable}({inputs})"]

    def intended_use(self, config, task_name):
        return f"{task_name.replace('_', ' ').capitalize()} of inputs like those of `{config['run']['dataset']}`."

    def export_labels(self, splits, model, labels):
        """`(labels, metadata)`: the test split's targets for `compare`, and sidecar entries of the output."""
        return labels, dict(output_description=self.description)

    def compare(self, outputs, reference, labels):
        raise NotImplementedError

    def gate(self, row, keras_row):
        return []

    def decode(self, predictor, outputs, top_k=None):
        raise NotImplementedError

    def format_answer(self, answer):
        """One line of `python -m export.predict` for one decoded answer."""
        return str(answer)

    def tensor_metadata(self, description, detail):
        """The standard metadata of one output tensor (`export.tflite_metadata.TensorMetadata` fields): class
        labels, where the sidecar has them, as a TENSOR_AXIS_LABELS file (what MediaPipe's classifiers read)."""
        files = [dict(name="labels.txt", description="One label per output, in output order.")]
        return dict(
            name=detail["name"],
            description=description.get("output_description", ""),
            associated_files=files if description.get("labels") else [],
        )


class Task:
    """A task: an input side plus a head (`Task(name, app, side, head, ...)`), asked by the app core, the
    run folder, export, `Predictor` and the card. Older tasks subclass it and override the methods."""

    name = None  # e.g. "image_classification"; models register under it
    app = None  # the module that trains it: python -m zoo_apps.<app>
    default_model = default_dataset = None
    side = InputSide()
    head = Head()

    def __init__(self, name=None, app=None, side=None, head=None, default_model=None, default_dataset=None):
        self.name, self.app = name or self.name, app or self.app
        self.side, self.head = side or self.side, head or self.head
        self.default_model = default_model or self.default_model
        self.default_dataset = default_dataset or self.default_dataset

    # What the side and the head declare.
    @property
    def catalog(self):
        return self.side.catalog

    @property
    def data_options(self):
        return self.side.data_options

    @property
    def recipe_keys(self):
        """The recipe keys this task uses: the apps define a flag for each, and only those."""
        return COMMON_RECIPE_KEYS + tuple(self.side.recipe_keys) + tuple(self.head.recipe_keys)

    @property
    def input_description(self):
        return self.side.description

    @property
    def output_description(self):
        return self.head.description

    @property
    def output_name(self):
        return self.head.output_name

    @property
    def report_columns(self):
        return self.head.report_columns

    @property
    def agreement_column(self):
        return self.head.agreement_column

    @property
    def history_metrics(self):
        return self.head.history_metrics

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
        return self.side.load_data(dataset, seed=seed, data_dir=data_dir, **options)

    def check(self, model_name, options, recipe):
        """Refuses, with a `ZooError`, settings this task cannot train; before anything is written."""
        tasks = registry.model_info(model_name)["tasks"]
        if self.name not in tasks:
            fitting = ", ".join(registry.list_models(task=self.name))
            raise ZooError(
                f"{model_name!r} is a {' / '.join(tasks)} model, not a {self.name} one: use one of {fitting}."
            )
        self.side.check(model_name, options, recipe)

    def check_data(self, model_name, splits, recipe):
        self.side.check_data(model_name, splits, recipe, num_outputs=self.head.num_outputs(splits))

    def adapt(self, model_name, splits, options):
        """Builder kwargs computed from the training split (vocabularies, statistics)."""
        adapter = registry.model_adapter(model_name)
        return adapter(splits, **options) if adapter else self.side.adapt(model_name, splits, options)

    def build_model(self, model_name, splits, options, pretrained):
        """Builds the model for `splits` (call inside the strategy's scope)."""
        from zoo.factory import create_model

        kwargs = {name: value for name, value in options.items() if name not in self.data_options}
        if not pretrained:
            kwargs.update(self.adapt(model_name, splits, kwargs))
        return create_model(
            model_name,
            num_classes=self.head.num_outputs(splits),
            input_shape=splits.input_shape or None,
            pretrained=pretrained,
            **kwargs,
        )

    # Training.
    def compile(self, model, recipe, new_optimizer):
        """Compiles `model`: loss and metrics from `recipe`, optimizers from `new_optimizer()`."""
        self.head.compile(model, recipe, new_optimizer)

    def training_pipelines(self, splits, recipe, seed):
        """Returns batched `(train, validation)` datasets as `compile`'s loss takes them."""
        train, validation = self.side.training_pipelines(splits, recipe, seed)
        targets = self.head.targets(splits)
        return (train, validation) if targets is None else (train.map(targets), validation.map(targets))

    def callbacks(self, model, splits, folder):
        """Extra Keras callbacks of the chief's training, e.g. samples written to the `RunFolder` every epoch."""
        return []

    # Evaluation and description.
    def evaluate(self, model, splits):
        """Returns `(metrics, outputs)`: metrics.json's task entries and what `write_plots` draws."""
        return self.head.evaluate(model, splits)

    def write_plots(self, folder, outputs):
        """Writes the task's plots into the run folder; returns `[(file, caption)]` for the card."""
        return self.head.write_plots(folder, outputs)

    def headline(self, metrics):
        """One line for the log: the test result."""
        return self.head.headline(metrics)

    def card_metrics(self, metrics):
        """Markdown lines of the model card's Metrics section."""
        return self.head.card_metrics(metrics)

    def card_limitations(self, config, metrics):
        """Task-specific Markdown bullet lines of the card's Limitations section."""
        entry = self.dataset_entry(config["run"]["dataset"])
        extra = [f"- {entry.limitation}"] if entry and entry.limitation else []
        return self.head.card_limitations(config, metrics) + self.side.card_limitations(config) + extra

    def card_usage(self, config, model_variable="model"):
        """Python lines of the card's Use section after the model is loaded into `model_variable`."""
        return self.head.card_usage_output(config, model_variable, self.side.card_usage_input(config))

    def intended_use(self, config):
        return self.head.intended_use(config, self.name)

    # Export and prediction.
    def export_data(self, config, model, data_dir=None):
        """Returns the run's `ExportData`: the side's inputs and the head's labels."""
        run = config["run"]
        splits = self.load_data(run["dataset"], run["seed"], data_dir, **run["options"])
        tflite_model, calibration, metadata = self.side.export_inputs(config, model, splits)
        inputs, labels = export_arrays(splits, self.head.agreement_examples)
        labels, output_metadata = self.head.export_labels(splits, model, labels)
        metadata = dict(task=self.name, **metadata, **output_metadata)
        types = (self.side.int8_input_type, self.head.int8_output_type)
        return ExportData(tflite_model, self.side.raw_inputs(inputs), labels, calibration, metadata, types)

    def serving_model(self, model):
        """The Keras model that the SavedModel serves (the whole model unless only part of it is used)."""
        return model

    def reference_model(self, model):
        """What export compares files with, on `ExportData.inputs`: the model, unless files answer otherwise."""
        return model

    def compare(self, outputs, reference, labels):
        """One report row's quality entries: a file's outputs on `ExportData.inputs` against Keras's
        (`reference`) on all of them, and against `labels` on the test split (the last inputs)."""
        return self.head.compare(outputs, reference, labels)

    def gate(self, row, keras_row):
        """Why a file is not fit to ship in place of the Keras model (an empty list: it passes)."""
        return self.head.gate(row, keras_row)

    def predictor_inputs(self, predictor, inputs, **options):
        """Checks raw `inputs` and returns them batched as the TFLite file takes them (before quantization)."""
        return self.side.predictor_inputs(predictor, inputs, **options)

    def read_inputs(self, predictor, args):
        """`(inputs, options)` for `predictor.predict` from `python -m export.predict`'s arguments."""
        return self.side.read_inputs(predictor, args)

    def decode(self, predictor, outputs, top_k=None):
        """Turns a batch of the file's float outputs into answers."""
        return self.head.decode(predictor, outputs, top_k=top_k)

    def format_answer(self, answer):
        return self.head.format_answer(answer)

    def tensor_metadata(self, description, inputs, outputs):
        """`(inputs, outputs, units)`: the standard metadata fields of each of a file's tensors (sidecar details,
        inputs in the file's order) and the subgraph's input process units: the side's and the head's."""
        tensors, units = self.side.file_metadata(description, inputs)
        return tensors, [self.head.tensor_metadata(description, detail) for detail in outputs], units
