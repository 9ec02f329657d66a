"""export/ end to end on a tiny trained run: files, report, Predictor, CLIs, errors, atomic writes."""

import json
import pathlib
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from export import convert, external, predict, verify
from export.__main__ import cli
from helpers import assert_one_line_error, run, write_pngs
from zoo.datasets import load_image_dataset

FLAVOURS = ("float32", "float16", "dynamic", "int8")


@pytest.fixture(scope="module")
def confident_training_images(exported_run):
    """Training digits that the Keras model labels right with probability > 0.9."""
    model = keras.saving.load_model(exported_run[0] / "model.keras")
    images, labels = next(load_image_dataset("digits").train.batch(200).as_numpy_iterator())
    probabilities = np.asarray(keras.ops.softmax(model(images)))
    chosen = (probabilities.argmax(1) == labels) & (probabilities.max(1) > 0.9)
    return images[chosen][:5], labels[chosen][:5]


@pytest.mark.slow
def test_export_writes_verified_files_and_report(exported_run):
    model_dir, stdout = exported_run
    export_dir = model_dir / "export"
    names = {path.name for path in export_dir.iterdir()}
    assert names == {"saved_model", "report.json", "export.log"} | {
        f"model_{flavour}.{ext}" for flavour in FLAVOURS for ext in ("tflite", "json")
    }
    report = json.loads((export_dir / "report.json").read_text())
    rows = {row["file"]: row for row in report["files"]}
    assert list(rows)[:2] == ["model.keras", "saved_model"]
    for name in rows:
        assert name in stdout  # the printed table
    keras_accuracy = json.loads((model_dir / "metrics.json").read_text())["test"]["accuracy"]
    assert rows["model.keras"]["accuracy"] == pytest.approx(keras_accuracy)
    assert keras_accuracy > 0.8
    assert rows["saved_model"]["max_abs_diff"] < 1e-4
    assert rows["model_float32.tflite"]["max_abs_diff"] < 1e-4
    assert rows["model_float32.tflite"]["top1_agreement"] == 1.0
    assert rows["model_float16.tflite"]["top1_agreement"] >= 0.99
    int8 = rows["model_int8.tflite"]
    assert int8["top1_agreement"] >= 0.95
    assert abs(int8["accuracy"] - keras_accuracy) <= 0.03
    assert int8["size_bytes"] < 0.35 * rows["model_float32.tflite"]["size_bytes"]
    for flavour in FLAVOURS:
        row = rows[f"model_{flavour}.tflite"]
        latency = row["latency_ms"]
        assert (
            0 < latency["median"] <= latency["p90"]
            and latency["spread"][0] <= latency["median"] <= latency["spread"][1]
        )
        assert len(latency["round_medians"]) == report["latency"]["tflite"]["rounds"] > 1  # the files alternated
        assert all(op.isupper() for op in row["operators"])
        assert row["delegates"]["xnnpack_partitions"] >= 1 and isinstance(row["delegates"]["gpu_compatible"], bool)
    assert rows["model_float32.tflite"]["delegates"]["gpu_compatible"]  # conv, pool, dense: all GPU ops
    assert set(report["summary"]) == {
        "int8_size_vs_float32",
        "int8_latency_vs_float32",
        "int8_accuracy_minus_keras",
        "keras_latency_vs_float32_tflite",
    }
    int8_ratio = np.median(
        np.divide(*(rows[f"model_{f}.tflite"]["latency_ms"]["round_medians"] for f in ("int8", "float32")))
    )
    assert report["summary"]["int8_latency_vs_float32"] == pytest.approx(int8_ratio, abs=1e-4)  # per-round ratios
    description = json.loads((export_dir / "model_int8.json").read_text())
    assert description["labels"] == list("0123456789")
    assert description["model"] == "cnn" and description["dataset"] == "digits"
    assert description["input_value_range"] == [0, 255]
    assert description["verification"]["accuracy"] == int8["accuracy"]
    assert description["verification"]["gate"] == int8["gate"]
    assert report["agreement_examples"] == 1797 and report["test_examples"] == 179
    assert int8["agreement_examples"] == 1797 and 0 <= int8["accuracy_drop_interval"][1]
    assert report["recommended"]["file"] in {f"model_{flavour}.tflite" for flavour in FLAVOURS}
    assert "Recommended for phones:" in stdout
    assert description["flavour"] == "int8" and description["task"] == "image_classification"
    assert description["calibration"] == dict(split="train", examples=300)
    assert {"tensorflow", "keras", "ai_edge_litert"} <= set(description["versions"])


@pytest.mark.slow
def test_saved_model_serves_raw_pixels_at_any_batch(exported_run):
    model_dir, _ = exported_run
    signature = tf.saved_model.load(str(model_dir / "export/saved_model")).signatures["serving_default"]
    (spec,) = signature.structured_input_signature[1].values()
    assert spec.name == "pixels" and spec.shape.as_list() == [None, 8, 8, 1]
    pixels = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 1)).astype("float32")
    model = keras.saving.load_model(model_dir / "model.keras")
    served = signature(pixels=tf.constant(pixels))["logits"].numpy()
    np.testing.assert_allclose(served, model(pixels), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_predictor_labels_training_images(exported_run, confident_training_images, flavour):
    images, labels = confident_training_images
    predictor = export.Predictor(exported_run[0] / f"export/model_{flavour}.tflite")
    assert predictor.input_shape == (8, 8, 1) and predictor.labels == list("0123456789")
    ranked = predictor.predict(images, top_k=3)
    assert [example[0][0] for example in ranked] == [str(label) for label in labels]
    for example in ranked:
        scores = [score for _, score in example]
        assert len(example) == 3 and scores == sorted(scores, reverse=True) and sum(scores) <= 1.0001
    single = predictor.predict(images[0])  # one example without batch dimension
    assert len(single) == 1 and len(single[0]) == 10 and single[0][0][0] == str(labels[0])


@pytest.mark.slow
def test_predict_cli_reads_png_and_jpeg_and_resizes(exported_run, confident_training_images, tmp_path):
    images, labels = confident_training_images
    files = []
    for index, image in enumerate(images[:3]):
        png = tmp_path / f"digit{index}.png"
        png.write_bytes(tf.io.encode_png(image.astype("uint8")).numpy())
        files.append(png)
    # An RGB JPEG at twice the size: converted to grayscale and resized back to 8x8.
    large = np.repeat(np.repeat(images[3], 2, axis=0), 2, axis=1).repeat(3, axis=-1)
    jpeg = tmp_path / "digit_rgb.jpg"
    jpeg.write_bytes(tf.io.encode_jpeg(large.astype("uint8"), quality=100).numpy())
    files.append(jpeg)
    model = exported_run[0] / "export/model_int8.tflite"
    result = run(predict.cli, f"--model={model}", "--top_k=2", *map(str, files))
    lines = result.stdout.strip().splitlines()
    assert [line.split(": ")[1].split()[0] for line in lines] == [str(label) for label in labels[:4]]
    assert all(len(line.split(", ")) == 2 for line in lines)


@pytest.mark.slow
def test_bad_inputs_give_clear_errors(exported_run, tmp_path):
    export_dir = exported_run[0] / "export"
    predictor = export.Predictor(export_dir / "model_int8.tflite")
    with pytest.raises(zoo.ZooError, match=r"inputs of shape \(8, 8, 1\).*Received: shape \(28, 28, 1\)"):
        predictor.predict(np.zeros((28, 28, 1)))
    with pytest.raises(zoo.ZooError, match=r"raw values in \[0, 255\]"):
        predictor.predict(np.full((8, 8, 1), 300.0))
    with pytest.raises(zoo.ZooError, match="is missing: pass an exported .tflite file"):
        export.Predictor(tmp_path / "missing.tflite")
    with pytest.raises(zoo.ZooError, match="is a folder: pass an exported .tflite file"):
        export.Predictor(tmp_path)
    for top_k in (0, -1, 1.5):
        with pytest.raises(zoo.ZooError, match="top_k must be a positive int"):
            predictor.predict(np.zeros((8, 8, 1)), top_k=top_k)
    with pytest.raises(zoo.ZooError, match="NaN or infinite"):
        predictor.predict(np.full((8, 8, 1), np.nan))
    with pytest.raises(zoo.ZooError, match="every value is within 0-1: multiply by 255"):
        predictor.predict(np.full((8, 8, 1), 0.5))
    assert len(predictor.predict(np.full((8, 8, 1), 0.5), allow_unit_range=True)) == 1
    with pytest.raises(zoo.ZooError, match="not text"):
        predictor.predict(["a text"])
    lonely = tmp_path / "lonely.tflite"
    shutil.copy(export_dir / "model_int8.tflite", lonely)
    with pytest.raises(zoo.ZooError, match=r"lonely\.json is missing"):
        export.Predictor(lonely)
    with pytest.raises(zoo.ZooError, match="not a finished zoo run"):
        export.export_run(tmp_path)
    with pytest.raises(zoo.ZooError, match=r"Unknown export formats \['int4'\]"):
        export.export_run(exported_run[0], formats=["int4"])
    with pytest.raises(zoo.ZooError, match="Unknown flavour='int4'"):
        export.to_tflite(export_dir / "saved_model", tmp_path / "m.tflite", flavour="int4")
    with pytest.raises(zoo.ZooError, match="needs representative_data"):
        export.to_tflite(export_dir / "saved_model", tmp_path / "m.tflite", flavour="int8")


@pytest.mark.slow
def test_truncated_tflite_is_a_one_line_error(exported_run, tmp_path):
    export_dir = exported_run[0] / "export"
    truncated = tmp_path / "model_int8.tflite"
    truncated.write_bytes((export_dir / "model_int8.tflite").read_bytes()[:5000])
    shutil.copy(export_dir / "model_int8.json", tmp_path / "model_int8.json")
    with pytest.raises(zoo.ZooError, match="not a valid TFLite file.*truncated"):
        export.Predictor(truncated)
    image = tmp_path / "digit.png"
    image.write_bytes(tf.io.encode_png(np.zeros((8, 8, 1), np.uint8)).numpy())
    assert_one_line_error(run(predict.cli, f"--model={truncated}", str(image), check=False), "not a valid TFLite file")
    assert_one_line_error(run(predict.cli, f"--model={tmp_path}", str(image), check=False), "is a folder")


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"random bytes, not a model"])
def test_corrupt_model_keras_is_a_one_line_error(exported_run, tmp_path, content):
    for name in ("config.json", "metrics.json"):
        shutil.copy(exported_run[0] / name, tmp_path / name)
    (tmp_path / "model.keras").write_bytes(content)
    result = run(cli, f"--model_dir={tmp_path}", check=False)
    assert_one_line_error(result, "is not a Keras model file (empty, truncated or another format)")
    with pytest.raises(zoo.ZooError, match="is not a Keras model file"):
        zoo.create_model("cnn", pretrained=str(tmp_path))


def test_export_cli_missing_model_dir_is_a_one_line_error(tmp_path):
    result = run(cli, f"--model_dir={tmp_path / 'nothing'}", check=False)
    assert_one_line_error(result, f"{tmp_path / 'nothing'} is not a finished zoo run (no config.json, metrics.json")


class MatrixInverse(keras.layers.Layer):
    def call(self, x):
        return tf.linalg.inv(x)


@pytest.mark.slow
def test_ops_without_builtin_kernels_are_refused(tmp_path):
    inputs = keras.Input((3, 3))
    model = keras.Model(inputs, keras.layers.Flatten()(MatrixInverse()(inputs)))
    with pytest.raises(zoo.ZooError, match=r"no TFLite builtin kernel \(tf.MatrixInverse\).*Flex/SELECT_TF_OPS"):
        export.to_tflite(model, tmp_path / "inverse.tflite")
    assert not list(tmp_path.iterdir())
    # A file that does contain a Flex op (converted here with SELECT_TF_OPS) is caught too.
    saved_model = convert.to_saved_model(model, tmp_path / "saved_model")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS,
        tf.lite.OpsSet.SELECT_TF_OPS,
    ]
    flex_model = converter.convert()
    assert "FlexMatrixInverse" in export.operator_names(flex_model)
    with pytest.raises(zoo.ZooError, match="not TFLite builtins: FlexMatrixInverse"):
        export.operators.check_builtin_operators(flex_model, "inverse.tflite")


@pytest.mark.slow
def test_mixed_precision_model_exports_in_float32(tmp_path):
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        model = zoo.create_model("cnn", 3, (8, 8, 1))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    pixels = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype("float32")
    export.to_tflite(model, tmp_path / "model.tflite")
    expected = convert.float32_model(model)(pixels)
    assert expected.dtype == "float32"
    np.testing.assert_allclose(export.Predictor(tmp_path / "model.tflite").outputs(pixels), expected, atol=1e-5)


@pytest.mark.slow
def test_interrupted_writes_leave_no_final_file(exported_run, tmp_path, monkeypatch):
    export_dir = exported_run[0] / "export"
    write_bytes = pathlib.Path.write_bytes

    def write_half_then_interrupt(path, data):
        write_bytes(path, data[: len(data) // 2])
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "write_bytes", write_half_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            export.to_tflite(export_dir / "saved_model", tmp_path / "model.tflite")
    assert not list(tmp_path.iterdir())  # neither the model, nor its sidecar, nor temp files

    def write_half_then_interrupt(archive, path, **kwargs):
        pathlib.Path(path, "saved_model.pb").parent.mkdir(parents=True)
        pathlib.Path(path, "saved_model.pb").write_text("partial")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        # keras.export.ExportArchive() returns an instance of the backend's subclass.
        archive_class = type(keras.export.ExportArchive())
        patch.setattr(archive_class, "write_out", write_half_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            convert.to_saved_model(keras.saving.load_model(exported_run[0] / "model.keras"), tmp_path / "sm")
    assert not list(tmp_path.iterdir())

    run_copy = tmp_path / "run"
    run_copy.mkdir()
    for name in ("model.keras", "config.json", "metrics.json"):
        shutil.copy(exported_run[0] / name, run_copy / name)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(verify, "verify_tflite", interrupt)
        with pytest.raises(KeyboardInterrupt):
            export.export_run(run_copy, formats=["float32"])
    written = {path.name for path in (run_copy / "export").iterdir()}
    assert written == {"model_float32.tflite", "model_float32.json", "export.log"}  # no report.json


@pytest.mark.slow
def test_report_describes_every_file_and_stale_temporaries_go(exported_run, tmp_path):
    run_copy = tmp_path / "run"
    shutil.copytree(exported_run[0], run_copy)
    stale = run_copy / "export" / ".tmp-999999999-saved_model"
    stale.mkdir()
    export.export_run(run_copy, formats=["int8"])
    report = json.loads((run_copy / "export/report.json").read_text())
    files = {row["file"] for row in report["files"]}
    assert {f"model_{flavour}.tflite" for flavour in FLAVOURS} | {"saved_model", "model.keras"} <= files
    assert not stale.exists()
    card = (exported_run[0] / "MODEL_CARD.md").read_text()  # written by `python -m export`
    assert "| `model_int8.tflite` |" in card and "median of 7 rounds of 300 runs" in card and "{'runs'" not in card


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_file_carries_standard_metadata_with_its_labels(exported_run, flavour):
    from export.tflite_metadata import associated_files, read_metadata

    content = (exported_run[0] / f"export/model_{flavour}.tflite").read_bytes()
    assert associated_files(content)["labels.txt"].decode().split() == list("0123456789")
    metadata = read_metadata(content)
    assert metadata["name"] == "cnn (image classification)" and metadata["license"].startswith("Apache-2.0")
    (pixels,) = metadata["inputs"]
    # A grayscale model's files take RGB (what MediaPipe Tasks and cameras give); gray is computed inside.
    assert pixels.content == "image" and pixels.color_space == "RGB"
    normalization = (None, None) if flavour == "int8" else ([0.0], [1.0])  # uint8 pixels need none
    assert (pixels.mean, pixels.std, pixels.min, pixels.max) == (*normalization, [0.0], [255.0])
    assert metadata["outputs"][0].associated_files[0].name == "labels.txt"


@pytest.mark.slow
def test_a_file_below_the_gate_fails_the_export_command(exported_run, tmp_path, monkeypatch):
    from export import run as export_run_module
    from zoo.tasks import classification

    run_copy = tmp_path / "run"
    shutil.copytree(exported_run[0], run_copy)
    monkeypatch.setattr(classification, "MIN_AGREEMENT", 1.01)  # no file can agree on 101%
    result = run(cli, f"--model_dir={run_copy}", "--formats=float16", check=False)
    assert_one_line_error(result, "Export finished but failed the fidelity gate: ")
    assert "model_float16.tflite agrees with Keras on 100.00% of 1,797 inputs" in result.error_lines[0]
    assert "--accept_failed" in result.error_lines[0]
    report = json.loads((run_copy / "export/report.json").read_text())
    assert set(report["failed"]) >= {"model_float16.tflite", "model_int8.tflite"}
    assert report["recommended"]["file"] is None
    assert "**failed**: agrees with Keras on" in (run_copy / "MODEL_CARD.md").read_text()
    assert run(cli, f"--model_dir={run_copy}", "--formats=float16", "--accept_failed").code == 0
    assert export_run_module.recommend([])["file"] is None


def test_paired_interval_of_an_accuracy_difference():
    from zoo.tasks.classification import paired_difference_interval

    same = np.ones(100, bool)
    assert paired_difference_interval(same, same) == (0.0, 0.0)
    second = same.copy()
    second[:10] = False  # 10 of 100 lost
    low, high = paired_difference_interval(same, second)
    assert 0.03 < low < 0.1 < high < 0.17


@pytest.mark.slow
def test_a_model_from_elsewhere_is_requantized_with_images_from_a_folder(exported_run, tmp_path):
    images, _ = next(load_image_dataset("digits").train.batch(40).as_numpy_iterator())
    for index, image in enumerate(images):
        (tmp_path / "images").mkdir(exist_ok=True)
        (tmp_path / "images" / f"{index}.png").write_bytes(tf.io.encode_png(image.astype("uint8")).numpy())
    (tmp_path / "labels.txt").write_text("".join(f"{digit}\n" for digit in range(10)))
    for model in (exported_run[0] / "model.keras", exported_run[0] / "export/saved_model"):
        out = tmp_path / model.stem
        rows = run(
            cli,
            f"--model={model}",
            f"--calibration_images={tmp_path / 'images'}",
            f"--output_dir={out}",
            "--formats=float32,int8",
            f"--labels={tmp_path / 'labels.txt'}",
        ).value
        assert [row["file"] for row in rows] == ["model_float32.tflite", "model_int8.tflite"]
        assert rows[0]["agreement"] == 1.0 and rows[1]["agreement"] >= 0.9 and rows[1]["examples"] == 40
        assert export.Predictor(out / "model_int8.tflite").labels == [str(digit) for digit in range(10)]
    result = run(cli, f"--model={exported_run[0] / 'model.keras'}", check=False)
    assert_one_line_error(result, "--model needs --calibration_images=DIR and --output_dir=DIR")


def test_calibration_images_of_a_model_from_elsewhere_are_resized_raw_pixels(tmp_path):
    write_pngs(tmp_path / "photos", count=3, size=8)
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    images = external.load_images(tmp_path / "photos", (16, 12, 3))
    assert images.shape == (6, 16, 12, 3) and images.dtype == np.float32
    dark, light = images[:3], images[3:]  # sorted paths: dark/ before light/
    assert dark.mean() < 60 < 190 < light.mean() and images.max() <= 255
    with pytest.raises(zoo.ZooError, match="holds no images"):
        external.load_images(tmp_path / "photos" / "dark" / "nothing", (16, 12, 3))
