"""Bad input that used to run on, ship wrong results or end in a traceback: one `error:` line, exit 2, no files."""

import pytest
import tensorflow as tf

import zoo
from export import predict
from export.__main__ import cli as export_cli
from helpers import assert_one_line_error, run, write_pngs, write_reviews
from zoo.datasets import load_image_dataset, load_text_dataset
from zoo.datasets.tables import load_table_dataset
from zoo_apps import image_classify, tabular, text_classify

FAST = ["--model=cnn", "--dataset=digits", "--epochs=1", "--batch_size=128"]


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """A cnn trained for one epoch on 8x8 digits, some of its digits as PNGs, and a float32 TFLite file of it."""
    root = tmp_path_factory.mktemp("cnn")
    run(image_classify.main, *FAST, f"--model_dir={root / 'run'}")
    images, _ = next(load_image_dataset("digits").train.batch(20).as_numpy_iterator())
    (root / "images").mkdir()
    for index, image in enumerate(images):
        (root / "images" / f"{index}.png").write_bytes(tf.io.encode_png(image.astype("uint8")).numpy())
    args = [f"--model={root / 'run/model.keras'}", f"--calibration_images={root / 'images'}", "--formats=float32"]
    run(export_cli, *args, f"--output_dir={root / 'tflite'}")
    return root, args


@pytest.mark.slow
def test_labels_that_do_not_match_the_outputs_are_refused(cnn_run, tmp_path):
    root, args = cnn_run
    (tmp_path / "labels.txt").write_text("".join(f"{digit}\n" for digit in range(9)))
    result = run(
        export_cli, *args, f"--output_dir={tmp_path / 'out'}", f"--labels={tmp_path / 'labels.txt'}", check=False
    )
    assert_one_line_error(
        result,
        f"The labels name 9 classes but {root / 'run/model.keras'} has 10 outputs: "
        "pass --labels with one class name per output, in output order.",
    )
    assert not (tmp_path / "out").exists()
    result = run(
        export_cli, *args, f"--output_dir={tmp_path / 'out'}", f"--labels={tmp_path / 'none.txt'}", check=False
    )
    assert_one_line_error(result, f"Cannot read --labels {tmp_path / 'none.txt'} (No such file or directory)")


@pytest.mark.slow
def test_predict_refuses_a_folder_and_a_file_that_is_no_image(cnn_run, tmp_path):
    root, _ = cnn_run
    model = f"--model={root / 'tflite/model_float32.tflite'}"
    (tmp_path / "notes.txt").write_text("not an image\n")
    (tmp_path / "fake.png").write_bytes(b"\x89PNG but cut short")
    for path, message in (
        (root / "images", f"'{root / 'images'}' is a folder, not an image: pass image files (PNG, JPEG, BMP or GIF)"),
        (tmp_path / "notes.txt", f"'{tmp_path / 'notes.txt'}' is not an image that can be decoded"),
        (tmp_path / "fake.png", f"'{tmp_path / 'fake.png'}' is not an image that can be decoded"),
        (tmp_path / "missing.png", f"'{tmp_path / 'missing.png'}' does not exist"),
    ):
        assert_one_line_error(run(predict.cli, model, str(path), check=False), message)
    assert run(predict.cli, model, str(root / "images/0.png")).stdout.count(", ") == 2  # top 3 of a real image


def test_a_class_emptied_by_skip_bad_files_is_the_empty_class_error(tmp_path):
    write_pngs(tmp_path / "data")
    for path in (tmp_path / "data" / "light").iterdir():
        path.write_bytes(b"not a png")
    light = tmp_path / "data" / "light"
    with pytest.raises(zoo.ZooError) as emptied:
        load_image_dataset(f"folder:{tmp_path / 'data'}", skip_bad_files=True)
    assert str(emptied.value) == (
        f"Class folder '{light}' holds no image files (.png/.jpg/.jpeg/.bmp/.gif) "
        "(12 unreadable file(s) left out by --skip_bad_files): add some, or remove the folder."
    )
    for path in light.iterdir():
        path.unlink()
    with pytest.raises(zoo.ZooError) as empty:
        load_image_dataset(f"folder:{tmp_path / 'data'}")
    assert str(empty.value) == (
        f"Class folder '{light}' holds no image files (.png/.jpg/.jpeg/.bmp/.gif): add some, or remove the folder."
    )
    args = [f"--dataset=folder:{tmp_path / 'data'}", "--skip_bad_files", f"--model_dir={tmp_path / 'run'}"]
    assert_one_line_error(run(image_classify.main, "--epochs=1", *args, check=False), f"Class folder '{light}'")
    assert not (tmp_path / "run").exists()


def test_a_tfds_text_dataset_is_refused_by_the_image_loader(tmp_path):
    with pytest.raises(zoo.ZooError) as error:
        load_image_dataset("imdb_reviews", data_dir=str(tmp_path))
    assert str(error.value).startswith(
        "tfds dataset 'imdb_reviews' is not an image-classification dataset (an `image` and a `label` feature). "
        "Received: features={'text': 'Text', 'label': 'ClassLabel'}"
    )


def test_classification_of_a_continuous_target_is_refused():
    with pytest.raises(zoo.ZooError) as error:
        load_table_dataset("diabetes", task="tabular_classification")
    assert str(error.value) == (
        "Target column 'target' looks continuous (214 distinct values in 442 rows): "
        "use --task=tabular_regression, or bin it into classes first."
    )
    assert load_table_dataset("iris", task="tabular_classification").class_names == [
        "setosa",
        "versicolor",
        "virginica",
    ]


def test_line_files_name_their_classes_without_the_extension(tmp_path):
    assert load_text_dataset(f"lines:{write_reviews(tmp_path / 'reviews')}").class_names == ["neg", "pos"]
    (tmp_path / "reviews" / "pos.csv").write_text("a superb film\n")
    with pytest.raises(zoo.ZooError, match=r"Files \['pos.csv', 'pos.txt'\] in .* name the same class"):
        load_text_dataset(f"lines:{tmp_path / 'reviews'}")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "0.0"])
def test_a_learning_rate_that_is_not_a_positive_number_is_refused_before_writing(tmp_path, value):
    result = run(image_classify.main, *FAST, f"--learning_rate={value}", f"--model_dir={tmp_path / 'run'}", check=False)
    shown = {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(value, "0.0")
    if value == "-inf":  # the flag's lower bound refuses it first
        assert_one_line_error(result, "--learning_rate=-inf")
    else:
        assert_one_line_error(
            result, f"--learning_rate must be a positive finite number (e.g. 0.001). Received: {shown}"
        )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "app, dataset, example",
    [(image_classify, "folder:", "folder:DIR"), (text_classify, "lines:", "lines:DIR"), (tabular, "csv: ", "csv:FILE")],
)
def test_a_dataset_kind_without_its_path_is_refused(tmp_path, app, dataset, example):
    result = run(app.main, f"--dataset={dataset}", "--epochs=1", f"--model_dir={tmp_path / 'run'}", check=False)
    assert_one_line_error(result, f"--dataset={dataset} names no path: pass --dataset={example}.")
    assert not (tmp_path / "run").exists()


def test_a_model_dir_that_cannot_be_made_is_refused():
    result = run(image_classify.main, *FAST, "--model_dir=/proc/zoo_run", check=False)
    assert_one_line_error(result, "--model_dir /proc/zoo_run cannot be written")
    assert "pass a writable folder" in result.error_lines[0]


@pytest.mark.slow
def test_a_model_dir_with_other_settings_names_the_flags_and_both_values(tmp_path):
    model_dir = tmp_path / "run"
    run(image_classify.main, *FAST, f"--model_dir={model_dir}")
    result = run(
        image_classify.main,
        *FAST,
        "--epochs=2",
        "--learning_rate=0.01",
        "--seed=3",
        f"--model_dir={model_dir}",
        check=False,
    )
    assert_one_line_error(
        result,
        f"{model_dir} holds a run with other settings (--epochs 1 there, 2 now; --learning_rate 0.003 there, "
        "0.01 now; --seed 0 there, 3 now; the data: other examples, or another split): pass a new --model_dir, "
        "or delete that folder to start over.",
    )
    assert not list(tmp_path.rglob(".zoo-probe-*"))  # the writability probe leaves nothing


def test_the_tabular_app_lists_its_models():
    expected = ["linear_regression", "logistic_regression", "mlp", "wide_and_deep"]
    assert run(tabular.main, "--list_models").stdout.split() == expected
    assert f"Registered model: {', '.join(expected)}." in run(tabular.main, "--help").stdout


def test_every_app_lists_its_own_models():
    assert "cnn" in run(image_classify.main, "--list_models").stdout.split()
    assert run(text_classify.main, "--list_models").stdout.split() == zoo.list_models(task="text_classification")
