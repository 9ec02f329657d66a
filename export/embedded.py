"""The standard TFLite metadata that `to_tflite` writes inside every file, from its sidecar entries.

Phone tooling (Android Studio's model binding, the LiteRT support and task
libraries, MediaPipe) reads it from the `.tflite` alone: model name, version and
licence, what the input and output are, the input's value range and
normalization (mean 0, std 1: raw values, the model rescales inside), and the
labels as `labels.txt` attached to the output.
"""

from export.tflite_metadata import AssociatedFile, TensorMetadata, add_metadata
from zoo.versions import __version__

LABELS_FILE = "labels.txt"
LICENSE = "Apache-2.0 (the weights: see the run's MODEL_CARD.md for the data's licence)"


def _input_tensor(description, detail):
    shape = detail["shape"]
    value_range = description.get("input_value_range")
    image = value_range is not None and len(shape) == 4
    return TensorMetadata(
        name=detail["name"],
        description=description.get("input_description", ""),
        content="image" if image else "feature",
        color_space=("GRAYSCALE" if shape[-1] == 1 else "RGB") if image else None,
        mean=[0.0] if image else None,
        std=[1.0] if image else None,
        min=[float(value_range[0])] if value_range else None,
        max=[float(value_range[1])] if value_range else None,
    )


def with_metadata(tflite_model, description):
    """Returns `tflite_model` (bytes) with standard metadata built from its sidecar `description`."""
    labels = description.get("labels")
    files = [AssociatedFile(LABELS_FILE, description="One label per output, in output order.")] if labels else []
    outputs = [
        TensorMetadata(
            name=detail["name"], description=description.get("output_description", ""), associated_files=files
        )
        for detail in description["outputs"]
    ]
    inputs = [_input_tensor(description, detail) for detail in description["inputs"]]
    return add_metadata(
        tflite_model,
        name=f"{description.get('model', 'model')} ({description.get('task', 'model').replace('_', ' ')})",
        description=(
            f"zoo {description.get('model')} trained on {description.get('dataset')}, {description['flavour']}."
        ),
        version=f"zoo {__version__}",
        author="zoo",
        license=LICENSE,
        input_tensors=inputs,
        output_tensors=outputs,
        associated_files={LABELS_FILE: "".join(f"{label}\n" for label in labels).encode()} if labels else None,
    )
