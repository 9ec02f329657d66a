"""Standard TFLite metadata inside the `.tflite` file (`export.tflite_metadata`)."""

import importlib.util
import io
import pathlib
import re
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as model_schema
from ai_edge_litert.interpreter import Interpreter

from export import tflite_metadata
from export.tflite_metadata import AssociatedFile, TensorMetadata

LABELS = b"circle\nsquare\ntriangle\n"
IMAGE = TensorMetadata(
    name="image",
    description="An 8x8 grayscale image.",
    content="image",
    color_space="GRAYSCALE",
    mean=[127.5],
    std=[127.5],
    min=[0.0],
    max=[255.0],
)
SCORES = TensorMetadata(
    name="logits",
    description="One score per label.",
    associated_files=[AssociatedFile("labels.txt", description="One label a line.")],
)
MODEL = {
    "name": "tiny",
    "description": "A tiny test classifier.",
    "version": "1",
    "author": "zoo tests",
    "license": "Apache-2.0",
}


@pytest.fixture(scope="module")
def tflite_model():
    """A small conv classifier on 8x8x1 images, as a TFLite flatbuffer."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.fixture(scope="module")
def with_metadata(tflite_model):
    return tflite_metadata.add_metadata(
        tflite_model,
        **MODEL,
        input_tensors=[IMAGE],
        output_tensors=[SCORES],
        associated_files={"labels.txt": LABELS},
    )


def _run(tflite_bytes, image):
    interpreter = Interpreter(model_content=tflite_bytes)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _mediapipe_file(name):
    """Loads `mediapipe/tasks/metadata/<name>` (without importing mediapipe, which needs OpenCV)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None:
        pytest.skip("mediapipe (its generated metadata schema bindings) is not installed")
    return pathlib.Path(spec.origin).parent / "tasks" / "metadata" / name


def _mediapipe_module(name):
    spec = importlib.util.spec_from_file_location(f"mediapipe_{name}", _mediapipe_file(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_model_gives_the_same_outputs(tflite_model, with_metadata):
    image = np.random.default_rng(0).uniform(-1, 1, (1, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(_run(with_metadata, image), _run(tflite_model, image))


def test_the_labels_come_back_from_the_zip(with_metadata):
    with zipfile.ZipFile(io.BytesIO(with_metadata)) as archive:
        assert archive.namelist() == ["labels.txt"]
        assert archive.read("labels.txt") == LABELS
        # The Android MetadataExtractor reads the files' bytes raw: they must be stored uncompressed.
        assert archive.getinfo("labels.txt").compress_type == zipfile.ZIP_STORED
    assert tflite_metadata.associated_files(with_metadata) == {"labels.txt": LABELS}


def test_read_metadata_returns_what_was_written(tflite_model, with_metadata):
    assert tflite_metadata.read_metadata(with_metadata) == dict(
        MODEL, min_parser_version="1.0.0", inputs=[IMAGE], outputs=[SCORES], input_process_units=[]
    )
    assert tflite_metadata.read_metadata(tflite_model) == {}
    assert tflite_metadata.associated_files(tflite_model) == {}


def test_the_upstream_generated_bindings_read_it(with_metadata):
    model_schema = _mediapipe_module("schema_py_generated")
    metadata_schema = _mediapipe_module("metadata_schema_py_generated")
    model = model_schema.Model.GetRootAs(with_metadata, 0)
    entries = [model.Metadata(index) for index in range(model.MetadataLength())]
    (buffer,) = [model.Buffers(entry.Buffer()) for entry in entries if entry.Name() == b"TFLITE_METADATA"]
    data = buffer.DataAsNumpy().tobytes()
    assert metadata_schema.ModelMetadata.ModelMetadataBufferHasIdentifier(data, 0)
    metadata = metadata_schema.ModelMetadataT.InitFromObj(metadata_schema.ModelMetadata.GetRootAs(data, 0))
    assert (metadata.name, metadata.version, metadata.license) == (b"tiny", b"1", b"Apache-2.0")
    assert metadata.minParserVersion == b"1.0.0"
    (subgraph,) = metadata.subgraphMetadata
    (image,), (scores,) = subgraph.inputTensorMetadata, subgraph.outputTensorMetadata
    assert image.name == b"image"
    assert image.content.contentPropertiesType == metadata_schema.ContentProperties.ImageProperties
    assert image.content.contentProperties.colorSpace == metadata_schema.ColorSpaceType.GRAYSCALE
    (unit,) = image.processUnits
    assert unit.optionsType == metadata_schema.ProcessUnitOptions.NormalizationOptions
    assert (list(unit.options.mean), list(unit.options.std)) == ([127.5], [127.5])
    assert (list(image.stats.min), list(image.stats.max)) == ([0.0], [255.0])
    assert scores.content.contentPropertiesType == metadata_schema.ContentProperties.FeatureProperties
    (labels,) = scores.associatedFiles
    assert (labels.name, labels.type) == (
        b"labels.txt",
        metadata_schema.AssociatedFileType.TENSOR_AXIS_LABELS,
    )


def test_the_schema_excerpt_matches_upstream():
    upstream = re.sub(r"//.*", "", _mediapipe_file("metadata_schema.fbs").read_text())
    assert 'file_identifier "M001";' in upstream
    upstream = tflite_metadata.parse_schema(upstream)
    for keyword, blocks in tflite_metadata.parse_schema(tflite_metadata.SCHEMA).items():
        for name, members in blocks.items():
            if keyword == "table":  # an excerpt may stop before a table's last fields
                assert upstream[keyword][name][: len(members)] == members, name
            else:
                assert upstream[keyword][name] == members, name


def test_adding_again_replaces_the_metadata(with_metadata):
    vocabulary = TensorMetadata(name="logits", associated_files=[AssociatedFile("vocab.txt", "VOCABULARY")])
    again = tflite_metadata.add_metadata(
        with_metadata,
        **MODEL,
        input_tensors=[IMAGE],
        output_tensors=[vocabulary],
        associated_files={"vocab.txt": b"a\nb\n"},
    )
    metadata = tflite_metadata.read_metadata(again)
    assert metadata["outputs"] == [vocabulary]
    assert metadata["min_parser_version"] == "1.0.1"
    assert tflite_metadata.associated_files(again) == {"vocab.txt": b"a\nb\n"}
    model = model_schema.Model.GetRootAs(again, 0)
    names = [model.Metadata(index).Name() for index in range(model.MetadataLength())]
    assert names.count(b"TFLITE_METADATA") == 1


@pytest.mark.parametrize(
    "inputs, outputs, files, message",
    [
        ([], [SCORES], {"labels.txt": LABELS}, "0 input tensors described, the model has 1"),
        ([IMAGE], [SCORES], {}, r"the tensors name files \['labels.txt'\], given \[\]"),
        ([TensorMetadata("x", content="image")], [SCORES], {"labels.txt": LABELS}, "color_space"),
        ([TensorMetadata("x", mean=[0.0])], [SCORES], {"labels.txt": LABELS}, "both mean and std"),
    ],
)
def test_metadata_that_does_not_fit_is_refused(tflite_model, inputs, outputs, files, message):
    with pytest.raises(ValueError, match=message):
        tflite_metadata.add_metadata(
            tflite_model, **MODEL, input_tensors=inputs, output_tensors=outputs, associated_files=files
        )
