"""Standard TFLite model metadata, written inside the `.tflite` file.

Android Studio's ML model binding, the LiteRT support and task libraries and MediaPipe read a model's
labels, input normalization and audio properties from TFLite Support's metadata (`metadata_schema.fbs`,
Apache-2.0): a `ModelMetadata` flatbuffer in the model buffer that the model's "TFLITE_METADATA" entry
names, and the associated files (e.g. `labels.txt`) in an uncompressed zip archive after the model, as
`tflite_support.metadata.MetadataPopulator` writes them; here with `flatbuffers` directly
(`tflite-support` pins protobuf 3.20, which TensorFlow 2.21 cannot use).
"""

import dataclasses
import io
import zipfile

import numpy as np
from ai_edge_litert import schema_py_generated as model_schema
from ai_edge_litert.tools import flatbuffer_utils
from flatbuffers import util

from export.metadata_schema import (  # noqa: F401 (SCHEMA and parse_schema: this module's API as before)
    BOX_TYPES,
    COLOR_SPACES,
    COORDINATE_TYPES,
    FILE_TYPES,
    METADATA_IDENTIFIER,
    SCHEMA,
    build_metadata,
    parse_schema,
    read_metadata_fields,
)

METADATA_NAME = "TFLITE_METADATA"

_CONTENTS = {"FeatureProperties": "feature", "ImageProperties": "image", "AudioProperties": "audio"}
_CONTENTS.update(BoundingBoxProperties="bounding_box")
# The schema versions that added the file types and process units newer than 1.0.0.
_VERSIONS = {"VOCABULARY": (1, 0, 1), "SCANN_INDEX_FILE": (1, 4, 0), "BertTokenizerOptions": (1, 1, 0)}
_VERSIONS.update(SentencePieceTokenizerOptions=(1, 1, 0), RegexTokenizerOptions=(1, 2, 1))


@dataclasses.dataclass
class AssociatedFile:
    """A file packed with the model, named as in `add_metadata`'s `associated_files`."""

    name: str
    type: str = "TENSOR_AXIS_LABELS"
    description: str = ""


@dataclasses.dataclass
class TensorMetadata:
    """What an app needs to know about one input or output tensor.

    Attributes:
        name: The tensor's name for app code (e.g. "image", "probabilities").
        description: What the tensor holds.
        content: "image", "audio", "bounding_box" or "feature" (other data); from other writers any kind's
            name, or None.
        color_space: For images, "RGB" or "GRAYSCALE".
        sample_rate, channels: For audio (`AudioProperties`, what MediaPipe's AudioClassifier resamples to).
        box_index, box_type, coordinate_type: For bounding boxes (`BoundingBoxProperties`, what MediaPipe's
            ObjectDetector reads boxes by): where each of the type's 4 values is in a box (BOUNDARIES: left, top,
            right, bottom; `[1, 0, 3, 2]` for `[ymin, xmin, ymax, xmax]`), a `BOX_TYPES` and a `COORDINATE_TYPES` name.
        mean, std: Normalization `(x - mean) / std` to apply to inputs, per channel.
        min, max: Smallest and largest value per channel (schema `Stats`), e.g. [0.0] and [255.0] for pixels.
        associated_files: The files that go with the tensor, e.g. its labels.
        process_units: Other process units than normalization, as `(options table, {field: value})`,
            e.g. `("RegexTokenizerOptions", {"delim_regex_pattern": ..., "vocab_file": [file fields]})`.
    """

    name: str
    description: str = ""
    content: str | None = "feature"
    color_space: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    box_index: list[int] | None = None
    box_type: str | None = None
    coordinate_type: str | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    min: list[float] | None = None
    max: list[float] | None = None
    associated_files: list[AssociatedFile] = dataclasses.field(default_factory=list)
    process_units: list[tuple] = dataclasses.field(default_factory=list)


def _tensor_fields(tensor):
    """Returns the `TensorMetadata` table (a dict of fields) of a `TensorMetadata`."""
    if tensor.content == "image":
        properties = ("ImageProperties", {"color_space": COLOR_SPACES.index(tensor.color_space)})
    elif tensor.content == "audio":
        properties = ("AudioProperties", {"sample_rate": tensor.sample_rate, "channels": tensor.channels})
    elif tensor.content == "bounding_box":
        box_type, coordinate_type = BOX_TYPES.index(tensor.box_type), COORDINATE_TYPES.index(tensor.coordinate_type)
        properties = (
            "BoundingBoxProperties",
            dict(index=tensor.box_index, type=box_type, coordinate_type=coordinate_type),
        )
    else:
        properties = ("FeatureProperties", {})
    normalization = {"mean": tensor.mean, "std": tensor.std}
    return {
        "name": tensor.name,
        "description": tensor.description,
        "content": {"content_properties": properties},
        "process_units": [{"options": ("NormalizationOptions", normalization)}] * bool(tensor.mean)
        + [{"options": unit} for unit in tensor.process_units],
        "stats": {"max": tensor.max, "min": tensor.min} if tensor.min or tensor.max else None,
        "associated_files": [
            {"name": file.name, "description": file.description, "type": FILE_TYPES.index(file.type)}
            for file in tensor.associated_files
        ],
    }


def _tensor_from_fields(fields):
    """Returns the `TensorMetadata` of a `TensorMetadata` table read by `_read_table`."""
    member, properties = fields.get("content", {}).get("content_properties", (None, {}))
    color_space = properties.get("color_space") if member == "ImageProperties" else None
    units = [unit.get("options", (None, {})) for unit in fields.get("process_units", [])]
    normalization = next((values for kind, values in units if kind == "NormalizationOptions"), {})
    stats = fields.get("stats", {})
    return TensorMetadata(
        name=fields.get("name", ""),
        description=fields.get("description", ""),
        content=_CONTENTS.get(member, member),
        color_space=None if color_space is None else COLOR_SPACES[color_space],
        **{key: properties.get(key) for key in ("sample_rate", "channels") if member == "AudioProperties"},
        **(_box_fields(properties) if member == "BoundingBoxProperties" else {}),
        mean=normalization.get("mean"),
        std=normalization.get("std"),
        min=stats.get("min"),
        max=stats.get("max"),
        associated_files=[
            AssociatedFile(file.get("name", ""), FILE_TYPES[file.get("type", 0)], file.get("description", ""))
            for file in fields.get("associated_files", [])
        ],
        process_units=[unit for unit in units if unit[0] != "NormalizationOptions"],
    )


def _box_fields(properties):
    return dict(
        box_index=properties.get("index", []),
        box_type=BOX_TYPES[properties.get("type", 0)],
        coordinate_type=COORDINATE_TYPES[properties.get("coordinate_type", 0)],
    )


def _check_tensor(tensor):
    """Raises `ValueError` if `tensor` can't be written."""
    if tensor.content not in ("feature", "image", "audio", "bounding_box"):
        raise ValueError(
            f"tensor {tensor.name!r}: content {tensor.content!r} is not 'feature', 'image', 'audio' or 'bounding_box'"
        )
    box = (tensor.box_type, tensor.coordinate_type)
    if tensor.content == "bounding_box" and (box[0] not in BOX_TYPES or box[1] not in COORDINATE_TYPES):
        raise ValueError(
            f"tensor {tensor.name!r}: a bounding box needs box_type in {BOX_TYPES} and coordinate_type "
            f"in {COORDINATE_TYPES}"
        )
    if tensor.content == "image" and tensor.color_space not in ("RGB", "GRAYSCALE"):
        raise ValueError(f"tensor {tensor.name!r}: an image needs color_space 'RGB' or 'GRAYSCALE'")
    if (tensor.mean is None) != (tensor.std is None):
        raise ValueError(f"tensor {tensor.name!r}: give both mean and std, or neither")
    for file in tensor.associated_files:
        if file.type not in FILE_TYPES:
            raise ValueError(f"file {file.name!r}: type must be one of {FILE_TYPES}, not {file.type!r}")


def _check_counts(model, input_tensors, output_tensors, associated_files, units):
    """Raises `ValueError` unless the metadata describes every tensor and file, as the schema requires."""
    subgraph = model.subgraphs[0]
    for kind, tensors, model_tensors in (
        ("input", input_tensors, subgraph.inputs),
        ("output", output_tensors, subgraph.outputs),
    ):
        if len(tensors) != len(model_tensors):
            raise ValueError(f"{len(tensors)} {kind} tensors described, the model has {len(model_tensors)}")
    named = {file.name for tensor in (*input_tensors, *output_tensors) for file in tensor.associated_files}
    units = [*units, *(unit for tensor in input_tensors for unit in tensor.process_units)]
    named |= {file["name"] for _, fields in units for file in fields.get("vocab_file", [])}
    if named != set(associated_files):
        raise ValueError(f"the tensors name files {sorted(named)}, given {sorted(associated_files)}")


def _min_parser_version(tensors, subgraph_units):
    """The oldest metadata parser that understands every field written, as the schema defines it."""
    kinds = [file.type for tensor in tensors for file in tensor.associated_files]
    kinds += [unit[0] for unit in (*subgraph_units, *(unit for tensor in tensors for unit in tensor.process_units))]
    versions = [_VERSIONS.get(kind, (1, 0, 0)) for kind in kinds] + [(1, 1, 0)] * bool(subgraph_units)
    return ".".join(map(str, max([(1, 0, 0), *versions])))


def _set_metadata(model, metadata):
    """Stores `metadata` in `model` (a `ModelT`) under `METADATA_NAME`, replacing any there."""
    buffer = model_schema.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    entry = next((entry for entry in model.metadata or [] if entry.name.decode() == METADATA_NAME), None)
    if entry is None:
        entry = model_schema.MetadataT()
        entry.name = METADATA_NAME
        entry.buffer = len(model.buffers)
        model.metadata = [*(model.metadata or []), entry]
        model.buffers.append(buffer)
    else:
        model.buffers[entry.buffer] = buffer


def add_metadata(
    tflite_bytes,
    *,
    name,
    description,
    version,
    author,
    license,
    input_tensors,
    output_tensors,
    associated_files=None,
    input_process_units=(),
):
    """Returns `tflite_bytes` with standard TFLite metadata and its associated files packed in.

    Args:
        tflite_bytes: A TFLite flatbuffer; files appended to it are dropped.
        name, description, version, author, license: The model's name, what it does, version, author, licence.
        input_tensors: A `TensorMetadata` per input, in the order of the model's inputs.
        output_tensors: A `TensorMetadata` per output, in the order of the model's outputs.
        associated_files: `{name: bytes}` of the files the tensors name, e.g. `labels.txt` (one label a line).
        input_process_units: The subgraph's own input process units, as `(options table, {field: value})`
            (a BERT tokenizer, which makes the model's 3 inputs).

    Raises:
        ValueError: The metadata doesn't match the model or names files not given.
    """
    associated_files = associated_files or {}
    model = flatbuffer_utils.read_model_from_bytearray(tflite_bytes)
    for tensor in (*input_tensors, *output_tensors):
        _check_tensor(tensor)
    _check_counts(model, input_tensors, output_tensors, associated_files, input_process_units)
    subgraph = {
        "input_tensor_metadata": [_tensor_fields(tensor) for tensor in input_tensors],
        "output_tensor_metadata": [_tensor_fields(tensor) for tensor in output_tensors],
        "input_process_units": [{"options": unit} for unit in input_process_units],
    }
    fields = {
        "name": name,
        "description": description,
        "version": version,
        "subgraph_metadata": [subgraph],
        "author": author,
        "license": license,
        "min_parser_version": _min_parser_version([*input_tensors, *output_tensors], input_process_units),
    }
    _set_metadata(model, build_metadata(fields))
    output = io.BytesIO(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    if associated_files:
        output.seek(0, io.SEEK_END)
        # Appends a zip archive after the flatbuffer: its offsets count from the start of the file.
        with zipfile.ZipFile(output, "a", compression=zipfile.ZIP_STORED) as archive:
            for file_name, data in associated_files.items():
                archive.writestr(file_name, data)
    return output.getvalue()


def _metadata_bytes(tflite_bytes):
    """Returns the metadata buffer of a TFLite flatbuffer, or None if it has none."""
    model = model_schema.Model.GetRootAs(tflite_bytes, 0)
    for index in range(model.MetadataLength()):
        entry = model.Metadata(index)
        if entry.Name().decode() == METADATA_NAME:
            return model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return None


def read_metadata(tflite_bytes):
    """Returns the standard metadata of a TFLite flatbuffer, or {} if it has none.

    Only the fields that `add_metadata` writes are read: the strings of its arguments, `min_parser_version`,
    `inputs` and `outputs` (`TensorMetadata` lists of the first subgraph), `input_process_units`
    (`(options table, {field: value})`). Floats come back as float32 values.

    Raises:
        ValueError: The metadata buffer is not a `ModelMetadata` flatbuffer.
    """
    metadata = _metadata_bytes(tflite_bytes)
    if metadata is None:
        return {}
    if not util.BufferHasIdentifier(metadata, 0, METADATA_IDENTIFIER):
        raise ValueError(f"the {METADATA_NAME} buffer lacks the identifier {METADATA_IDENTIFIER!r}")
    fields = read_metadata_fields(metadata)
    subgraph = (fields.get("subgraph_metadata") or [{}])[0]
    result = {key: fields.get(key, "") for key in ("name", "description", "version", "author", "license")}
    return dict(
        result,
        min_parser_version=fields.get("min_parser_version", ""),
        inputs=[_tensor_from_fields(tensor) for tensor in subgraph.get("input_tensor_metadata", [])],
        outputs=[_tensor_from_fields(tensor) for tensor in subgraph.get("output_tensor_metadata", [])],
        input_process_units=[unit.get("options") for unit in subgraph.get("input_process_units", [])],
    )


def associated_files(tflite_bytes):
    """Returns `{name: bytes}` of the files packed after a TFLite flatbuffer ({} if none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(tflite_bytes)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except zipfile.BadZipFile:
        return {}
