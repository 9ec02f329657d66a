"""The standard TFLite metadata that `to_tflite` writes inside every file, from its sidecar entries.

Phone tooling (MediaPipe Tasks, Android Studio's model binding, the LiteRT support
library) reads it from the `.tflite` alone: model name, version and licence, and for
each tensor what the task's input side and head say of it (an RGB image and its
normalization, a tokenizer, labels as `labels.txt` attached to the output).
"""

from export.tflite_metadata import AssociatedFile, TensorMetadata, add_metadata
from zoo.tasks import Task, get_task
from zoo.versions import __version__

LABELS_FILE = "labels.txt"
LICENSE = "Apache-2.0 (the weights: see the run's MODEL_CARD.md for the data's licence)"


def _tensor(fields):
    files = [
        AssociatedFile(**{k: v for k, v in file.items() if k != "content"})
        for file in fields.get("associated_files", [])
    ]
    return TensorMetadata(**{**fields, "associated_files": files})


def _file_contents(tensors, labels):
    """`{name: bytes}` of the files the tensors name: `labels.txt` from the labels, others as a side or head gave."""
    contents = {LABELS_FILE: "".join(f"{label}\n" for label in labels).encode()} if labels else {}
    for tensor in tensors:
        for file in tensor.get("associated_files", []):
            if "content" in file:
                contents[file["name"]] = file["content"]
    named = {file["name"] for tensor in tensors for file in tensor.get("associated_files", [])}
    return {name: data for name, data in contents.items() if name in named}


def with_metadata(tflite_model, description):
    """Returns `tflite_model` (bytes) with standard metadata built from its sidecar `description`: the task
    named there (its input side and head) describes each tensor; a file without a task gets names only."""
    task = get_task(description["task"]) if description.get("task") else Task()
    inputs, outputs = task.tensor_metadata(description, description["inputs"], description["outputs"])
    return add_metadata(
        tflite_model,
        name=f"{description.get('model', 'model')} ({description.get('task', 'model').replace('_', ' ')})",
        description=(
            f"zoo {description.get('model')} trained on {description.get('dataset')}, {description['flavour']}."
        ),
        version=f"zoo {__version__}",
        author="zoo",
        license=LICENSE,
        input_tensors=[_tensor(fields) for fields in inputs],
        output_tensors=[_tensor(fields) for fields in outputs],
        associated_files=_file_contents([*inputs, *outputs], description.get("labels")) or None,
    )
