"""The standard TFLite metadata that `to_tflite` writes inside every file, from its sidecar entries.

Phone tooling (MediaPipe Tasks, Android Studio's model binding, the LiteRT support
library) reads it from the `.tflite` alone: model name, version and licence, and for
each tensor what the task's input side and head say of it (an RGB image and its
normalization, a tokenizer and its vocabulary, labels as `labels.txt` attached to the output).
"""

from ai_edge_litert import schema_py_generated as model_schema

from export.tflite_metadata import FILE_TYPES, AssociatedFile, TensorMetadata, add_metadata
from zoo.tasks import Task, get_task
from zoo.versions import __version__

LABELS_FILE = "labels.txt"
LICENSE = "Apache-2.0 (the weights: see the run's MODEL_CARD.md for the data's licence)"


def _unit(unit, contents):
    """A process unit `(options table, fields)` as the schema writer takes it; files' contents go to `contents`."""
    table, fields = unit
    fields = dict(fields)
    if "vocab_file" in fields:
        files = []
        for file in fields["vocab_file"]:
            if "content" in file:
                contents[file["name"]] = file["content"]
            files.append(
                dict(name=file["name"], description=file.get("description", ""), type=FILE_TYPES.index(file["type"]))
            )
        fields["vocab_file"] = files
    return table, fields


def _tensor(fields, contents):
    files = []
    for file in fields.get("associated_files", []):
        if "content" in file:
            contents[file["name"]] = file["content"]
        files.append(AssociatedFile(**{key: value for key, value in file.items() if key != "content"}))
    units = [_unit(unit, contents) for unit in fields.get("process_units", [])]
    return TensorMetadata(**{**fields, "associated_files": files, "process_units": units})


def in_subgraph_order(tflite_model, details, kind="Inputs"):
    """The sidecar's input `details` (named by the signature) in the order of the file's subgraph inputs,
    which is the order of the metadata's input tensors; with `kind="Outputs"`, the same for outputs."""
    model = model_schema.Model.GetRootAs(tflite_model, 0)
    if not model.SignatureDefsLength():
        return details
    signature, subgraph = model.SignatureDefs(0), model.Subgraphs(0)
    entries, length = getattr(signature, kind), getattr(signature, f"{kind}Length")()
    names = {entries(i).TensorIndex(): entries(i).Name().decode() for i in range(length)}
    by_name = {detail["name"]: detail for detail in details}
    tensors, count = getattr(subgraph, kind), getattr(subgraph, f"{kind}Length")()
    order = [names.get(tensors(i)) for i in range(count)]
    return [by_name[name] for name in order] if set(order) == set(by_name) else details


def with_metadata(tflite_model, description):
    """Returns `tflite_model` (bytes) with standard metadata built from its sidecar `description`: the task
    named there (its input side and head) describes each tensor; a file without a task gets names only."""
    task = get_task(description["task"]) if description.get("task") else Task()
    details = in_subgraph_order(tflite_model, description["inputs"])
    outputs = in_subgraph_order(tflite_model, description["outputs"], "Outputs")
    inputs, outputs, units = task.tensor_metadata(description, details, outputs)
    labels = description.get("labels")
    contents = {LABELS_FILE: "".join(f"{label}\n" for label in labels).encode()} if labels else {}
    input_tensors = [_tensor(fields, contents) for fields in inputs]
    output_tensors = [_tensor(fields, contents) for fields in outputs]
    units = [_unit(unit, contents) for unit in units]
    named = {file.name for tensor in (*input_tensors, *output_tensors) for file in tensor.associated_files}
    named |= {
        file["name"]
        for tensor in input_tensors
        for _, fields in tensor.process_units
        for file in fields.get("vocab_file", [])
    }
    named |= {file["name"] for _, fields in units for file in fields.get("vocab_file", [])}
    return add_metadata(
        tflite_model,
        name=f"{description.get('model', 'model')} ({description.get('task', 'model').replace('_', ' ')})",
        description=(
            f"zoo {description.get('model')} trained on {description.get('dataset')}, {description['flavour']}."
        ),
        version=f"zoo {__version__}",
        author="zoo",
        license=LICENSE,
        input_tensors=input_tensors,
        output_tensors=output_tensors,
        associated_files={name: data for name, data in contents.items() if name in named},
        input_process_units=units,
    )
