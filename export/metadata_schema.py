"""The TFLite Metadata schema excerpt that `export.tflite_metadata` writes and reads, and the generic
FlatBuffers code that builds and reads its tables from and to dicts of fields.

The schema is TFLite Support's `metadata_schema.fbs` (Apache-2.0), as MediaPipe ships it; only the tables
that zoo's files use are here, each cut after its last field used (`tests/test_tflite_metadata.py` checks the
excerpt against the upstream file).
"""

import re

import flatbuffers
import numpy as np
from flatbuffers import encode, number_types, packer
from flatbuffers.table import Table

METADATA_IDENTIFIER = b"M001"

# An excerpt of `metadata_schema.fbs` 1.5.0 without its comments: the tables used, each cut after the
# last field used. A field's id is its position; a union field takes two ids (`<name>_type`, `<name>`).
SCHEMA = """
enum AssociatedFileType : byte { UNKNOWN, DESCRIPTIONS, TENSOR_AXIS_LABELS, TENSOR_VALUE_LABELS,
  TENSOR_AXIS_SCORE_CALIBRATION, VOCABULARY, SCANN_INDEX_FILE }
enum ColorSpaceType : byte { UNKNOWN, RGB, GRAYSCALE }
enum BoundingBoxType : byte { UNKNOWN, BOUNDARIES, UPPER_LEFT, CENTER }  enum CoordinateType : byte { RATIO, PIXEL }
union ContentProperties { FeatureProperties, ImageProperties, BoundingBoxProperties, AudioProperties }
union ProcessUnitOptions { NormalizationOptions, ScoreCalibrationOptions, ScoreThresholdingOptions,
  BertTokenizerOptions, SentencePieceTokenizerOptions, RegexTokenizerOptions }
table AssociatedFile { name:string; description:string; type:AssociatedFileType; }
table BertTokenizerOptions { vocab_file:[AssociatedFile]; }  table ProcessUnit { options:ProcessUnitOptions; }
table RegexTokenizerOptions { delim_regex_pattern:string; vocab_file:[AssociatedFile]; }
table FeatureProperties { }  table ImageProperties { color_space:ColorSpaceType; }
table AudioProperties { sample_rate:uint; channels:uint; }  table Content { content_properties:ContentProperties; }
table BoundingBoxProperties { index:[uint]; type:BoundingBoxType; coordinate_type:CoordinateType; }
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
BOX_TYPES, COORDINATE_TYPES = tuple(_ENUMS["BoundingBoxType"]), tuple(_ENUMS["CoordinateType"])


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
    if kind in ("[float]", "[uint]"):
        return builder.CreateNumpyVector(np.asarray(value, dtype=np.float32 if kind == "[float]" else np.uint32))
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
    if kind in ("[float]", "[uint]"):
        flags = number_types.Float32Flags if kind == "[float]" else number_types.Uint32Flags
        return table.GetVectorAsNumpy(flags, offset).tolist()
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


def build_metadata(fields):
    """Returns the `ModelMetadata` flatbuffer of a dict of its fields."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(_build_table(builder, "ModelMetadata", fields), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata_fields(metadata):
    """Returns the fields of a `ModelMetadata` flatbuffer as a dict (`_read_table`)."""
    return _read_table(Table(metadata, encode.Get(packer.uoffset, metadata, 0)), "ModelMetadata")
