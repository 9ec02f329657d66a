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
import re
import zipfile

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as model_schema
from ai_edge_litert.tools import flatbuffer_utils
from flatbuffers import encode, number_types, packer, util
from flatbuffers.table import Table

METADATA_NAME = "TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"

# An excerpt of `metadata_schema.fbs` 1.5.0 without its comments: the tables used, each cut after the
# last field used. A field's id is its position; a union field takes two ids (`<name>_type`, `<name>`).
SCHEMA = """
enum AssociatedFileType : byte { UNKNOWN, DESCRIPTIONS, TENSOR_AXIS_LABELS, TENSOR_VALUE_LABELS,
  TENSOR_AXIS_SCORE_CALIBRATION, VOCABULARY, SCANN_INDEX_FILE }
enum ColorSpaceType : byte { UNKNOWN, RGB, GRAYSCALE }
union ContentProperties { FeatureProperties, ImageProperties, BoundingBoxProperties, AudioProperties }
union ProcessUnitOptions { NormalizationOptions, ScoreCalibrationOptions, ScoreThresholdingOptions,
  BertTokenizerOptions, SentencePieceTokenizerOptions, RegexTokenizerOptions }
table AssociatedFile { name:string; description:string; type:AssociatedFileType; }
table BertTokenizerOptions { vocab_file:[AssociatedFile]; }  table ProcessUnit { options:ProcessUnitOptions; }
table RegexTokenizerOptions { delim_regex_pattern:string; vocab_file:[AssociatedFile]; }
table FeatureProperties { }  table ImageProperties { color_space:ColorSpaceType; }
table AudioProperties { sample_rate:uint; channels:uint; }  table Content { content_properties:ContentProperties; }
table NormalizationOptions { mean:[float]; std:[float]; }  table Stats { max:[float]; min:[float]; }
table TensorMetadata { name:string; description:string; dimension_names:[string]; content:Content;
  process_units:[ProcessUnit]; stats:Stats; associated_files:[AssociatedFile]; }
table SubGraphMetadata { name:string; description:string; input_tensor_metadata:[TensorMetadata];
  output_tensor_metadata:[TensorMetadata]; associated_files:[AssociatedFile]; input_process_units:[ProcessUnit]; }
table ModelMetadata { name:string; description:string; version:string; subgraph_metadata:[SubGraphMetadata];
  author:string; license:string; associated_files:[AssociatedFile]; min_parser_version:string; }
"""


def parse_schema(text):
    """Returns `{"enum" | "union" | "table": {name: members}}` of a FlatBuffers schema without comments:
    an enum's or union's members are names, a table's `(field, type)` pairs, in order."""
    blocks = {"enum": {}, "union": {}, "table": {}}
    for keyword, name, body in re.findall(r"\b(enum|union|table) (\w+)[^{]*\{([^}]*)\}", text):
        pattern = r"(\w+):([\w\[\]]+)[^;]*;" if keyword == "table" else r"[A-Za-z_]\w*"
        blocks[keyword][name] = re.findall(pattern, body)
    return blocks


_ENUMS, _UNIONS, _TABLES = parse_schema(SCHEMA).values()
FILE_TYPES = tuple(_ENUMS["AssociatedFileType"])
COLOR_SPACES = tuple(_ENUMS["ColorSpaceType"])
_CONTENTS = {"FeatureProperties": "feature", "ImageProperties": "image", "AudioProperties": "audio"}
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
        content: "image", "audio" or "feature" (other data); from other writers any kind's name, or None.
        color_space: For images, "RGB" or "GRAYSCALE".
        sample_rate, channels: For audio (`AudioProperties`, what MediaPipe's AudioClassifier resamples to).
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
    mean: list[float] | None = None
    std: list[float] | None = None
    min: list[float] | None = None
    max: list[float] | None = None
    associated_files: list[AssociatedFile] = dataclasses.field(default_factory=list)
    process_units: list[tuple] = dataclasses.field(default_factory=list)


def _offset_vector(builder, offsets):
    """Builds a vector of tables or strings from their offsets."""
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _build_field(builder, kind, value):
    """Builds a non-scalar field value and returns its offset."""
    if kind == "string":
        return builder.CreateString(value)
    if kind == "[float]":
        return builder.CreateNumpyVector(np.asarray(value, dtype=np.float32))
    if kind == "[string]":
        return _offset_vector(builder, [builder.CreateString(text) for text in value])
    if kind.startswith("["):
        return _offset_vector(builder, [_build_table(builder, kind[1:-1], item) for item in value])
    return _build_table(builder, kind, value)


def _build_table(builder, table, values):
    """Builds `table` from a dict of its fields (absent, None or empty: not written)."""
    scalars, offsets, field_id = [], [], 0
    for name, kind in _TABLES[table]:
        value = values.get(name)
        if kind in _UNIONS:
            if value is not None:
                member, member_values = value
                scalars.append((builder.PrependUint8Slot, field_id, _UNIONS[kind].index(member) + 1))
                offsets.append((field_id + 1, _build_table(builder, member, member_values)))
            field_id += 2
            continue
        if kind in _ENUMS or kind == "uint":
            prepend = builder.PrependUint32Slot if kind == "uint" else builder.PrependInt8Slot
            scalars.append((prepend, field_id, value or 0))
        elif value not in (None, "", []):
            offsets.append((field_id, _build_field(builder, kind, value)))
        field_id += 1
    builder.StartObject(field_id)
    for prepend, slot, value in scalars:
        prepend(slot, value, 0)
    for slot, offset in offsets:
        builder.PrependUOffsetTRelativeSlot(slot, offset, 0)
    return builder.EndObject()


def _read_field(table, offset, kind):
    """Reads the field at vtable `offset` (non-zero) of `table` as a Python value."""
    position = offset + table.Pos
    if kind == "string":
        return table.String(position).decode()
    if kind in _ENUMS or kind == "uint":
        return table.Get(number_types.Uint32Flags if kind == "uint" else number_types.Int8Flags, position)
    if kind == "[float]":
        return table.GetVectorAsNumpy(number_types.Float32Flags, offset).tolist()
    if not kind.startswith("["):
        return _read_table(Table(table.Bytes, table.Indirect(position)), kind)
    start = table.Vector(offset)
    items = [start + 4 * index for index in range(table.VectorLen(offset))]
    if kind == "[string]":
        return [table.String(item).decode() for item in items]
    return [_read_table(Table(table.Bytes, table.Indirect(item)), kind[1:-1]) for item in items]


def _read_table(table, name):
    """Returns the fields of `_TABLES[name]` that `table` has, as a dict."""
    values, field_id = {}, 0
    for field, kind in _TABLES.get(name, []):
        offset = table.Offset(4 + 2 * field_id)
        if kind in _UNIONS:
            value_offset = table.Offset(4 + 2 * (field_id + 1))
            if offset and value_offset:
                member = _UNIONS[kind][table.Get(number_types.Uint8Flags, offset + table.Pos) - 1]
                member_table = Table(table.Bytes, table.Indirect(value_offset + table.Pos))
                values[field] = (member, _read_table(member_table, member))
            field_id += 2
            continue
        if offset:
            values[field] = _read_field(table, offset, kind)
        field_id += 1
    return values


def _tensor_fields(tensor):
    """Returns the `TensorMetadata` table (a dict of fields) of a `TensorMetadata`."""
    if tensor.content == "image":
        properties = ("ImageProperties", {"color_space": COLOR_SPACES.index(tensor.color_space)})
    elif tensor.content == "audio":
        properties = ("AudioProperties", {"sample_rate": tensor.sample_rate, "channels": tensor.channels})
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


def _check_tensor(tensor):
    """Raises `ValueError` if `tensor` can't be written."""
    if tensor.content not in ("feature", "image", "audio"):
        raise ValueError(f"tensor {tensor.name!r}: content {tensor.content!r} is not 'feature', 'image' or 'audio'")
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


def _metadata_buffer(fields):
    """Returns the `ModelMetadata` flatbuffer of a dict of its fields."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(_build_table(builder, "ModelMetadata", fields), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


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
    _set_metadata(model, _metadata_buffer(fields))
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
    fields = _read_table(Table(metadata, encode.Get(packer.uoffset, metadata, 0)), "ModelMetadata")
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
