"""Semantic segmentation: metrics by hand, folder data and its one-line errors, the models, and (slow) a run
trained by `python -m zoo_apps.segment`, exported, opened in MediaPipe's ImageSegmenter and by `export.predict`."""

import json

import numpy as np
import pytest
from PIL import Image

import export
import zoo
from export import mediapipe_tasks
from export.predict import cli as predict_cli
from helpers import assert_one_line_error, run, write_scene_folder
from zoo.datasets.segmentation import load_segmentation_dataset
from zoo.tasks import get_task
from zoo.tasks.segmentation_metrics import paired_mean_iou_drop, segmentation_metrics
from zoo_apps import segment


def test_iou_and_pixel_accuracy_by_hand():
    labels = np.array([[[0, 0, 1, 1], [0, 0, 2, 2]]])  # one 2x4 image
    predictions = np.array([[[0, 1, 1, 1], [0, 0, 2, 0]]])
    metrics = segmentation_metrics(predictions, labels, ["background", "a", "b"])
    # background: 3 right of 4 true + 1 false positive -> 3/5; a: 2/3; b: 1/2
    assert metrics["per_class"]["background"]["iou"] == pytest.approx(3 / 5)
    assert metrics["per_class"]["a"]["iou"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["b"]["iou"] == pytest.approx(1 / 2)
    assert metrics["mean_iou"] == pytest.approx((3 / 5 + 2 / 3 + 1 / 2) / 3)
    assert metrics["pixel_accuracy"] == pytest.approx(6 / 8) and metrics["num_pixels"] == 8


def test_intervals_are_over_images_and_an_absent_class_is_left_out():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (40, 8, 8))
    predictions = np.where(rng.random(labels.shape) < 0.9, labels, 1 - labels)
    metrics = segmentation_metrics(predictions, labels, ["background", "digit", "never"])
    low, high = metrics["mean_iou_interval"]
    assert low < metrics["mean_iou"] < high and high - low < 0.1
    assert metrics["per_class"]["never"]["iou"] is None  # absent from labels and predictions: not in the mean
    drop, (drop_low, drop_high) = paired_mean_iou_drop(labels, predictions, labels, 3)
    assert drop == pytest.approx(1 - metrics["mean_iou"]) and drop_low > 0
    assert paired_mean_iou_drop(predictions, predictions, labels, 3) == (0.0, [0.0, 0.0])


def test_a_scene_folder_loads_with_palette_masks_and_is_split_80_10_10(tmp_path):
    root = write_scene_folder(tmp_path / "scenes", count=20)
    splits = load_segmentation_dataset(f"folder:{root}", seed=0, image_size=(16, 16))
    assert splits.num_classes == 11 and splits.input_shape == (16, 16, 1)
    assert [int(split.cardinality()) for split in (splits.train, splits.validation, splits.test)] == [16, 2, 2]
    image, mask = next(iter(splits.train))
    assert image.shape == (16, 16, 1) and mask.shape == (16, 16) and mask.dtype.name == "int32"
    assert set(np.unique(mask.numpy())) <= set(range(11))


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "has no mask: add"),
        ("size", "is 8x8 but its image is 32x32"),
        ("unknown", "holds class ids [42] beyond the 11 classes"),
        ("rgb", "is a RGB image: save masks as palette (P) or 8-bit gray (L) PNGs"),
    ],
)
def test_bad_masks_are_one_line_errors_naming_the_file(tmp_path, damage, message):
    root = write_scene_folder(tmp_path / "scenes", count=12)
    mask = root / "masks" / "3.png"
    if damage == "missing":
        mask.unlink()
    elif damage == "size":
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(mask)
    elif damage == "unknown":
        Image.fromarray(np.full((32, 32), 42, np.uint8)).save(mask)
    else:
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(mask)
    result = run(segment.main, f"--dataset=folder:{root}", f"--model_dir={tmp_path / 'run'}", check=False)
    assert_one_line_error(result, message)
    assert "3.png" in result.error_lines[0]


def test_models_give_logits_per_pixel_and_the_task_takes_no_augment_flag():
    for name in ("unet", "deeplab_v3"):
        model = zoo.create_model(name, num_classes=4, input_shape=(32, 32, 1))
        assert model.output_shape == (None, 32, 32, 4)
        assert np.asarray(model(np.full((1, 32, 32, 1), 255.0, np.float32))).shape == (1, 32, 32, 4)
    assert zoo.create_model("unet", num_classes=11).count_params() == 272_879
    task = get_task("image_segmentation")
    assert "augment" not in task.recipe_keys and zoo.list_models(task=task.name) == ["deeplab_v3", "unet"]
    with pytest.raises(zoo.ZooError, match="divisible by 8"):
        zoo.create_model("unet", num_classes=2, input_shape=(36, 36, 1))


@pytest.fixture(scope="module")
def segment_run(tmp_path_factory):
    root = write_scene_folder(tmp_path_factory.mktemp("data") / "scenes", count=40)
    model_dir = tmp_path_factory.mktemp("seg") / "run"
    args = ["--epochs=2", "--batch_size=8", f"--dataset=folder:{root}", f"--model_dir={model_dir}"]
    metrics = run(segment.main, *args, "--export=int8").value
    return model_dir, metrics, root


@pytest.mark.slow
def test_a_run_writes_iou_metrics_plots_and_a_card_with_the_heads_columns(segment_run):
    model_dir, metrics, _ = segment_run
    test = metrics["test"]
    assert 0 <= test["mean_iou_interval"][0] <= test["mean_iou"] <= test["mean_iou_interval"][1] <= 1
    assert set(test["per_class"]) == {"background", *map(str, range(10))}
    assert (model_dir / "overlays.png").is_file() and (model_dir / "class_iou.png").is_file()
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "mean IoU **" in card and "| background |" in card
    assert "| file | size KB | mean_iou | agreement with Keras | latency ms | fidelity gate |" in card
    rows = {row["file"]: row for row in json.loads((model_dir / "export/report.json").read_text())["files"]}
    int8 = rows["model_int8.tflite"]
    assert int8["pixel_agreement"] >= 0.99 and int8["gate"]["passed"] and int8["agreement_examples"] == 40


@pytest.mark.slow
def test_mediapipe_image_segmenter_returns_predictors_category_masks(segment_run):
    model_dir, _, root = segment_run
    splits = load_segmentation_dataset(f"folder:{root}", seed=0)
    images = np.stack([image for image, _ in splits.train.take(6).as_numpy_iterator()])
    path = model_dir / "export/model_int8.tflite"
    expected = np.stack(export.Predictor(path).predict(images))
    assert expected.shape == (6, 32, 32) and expected.dtype == np.uint8
    masks = np.stack(mediapipe_tasks.top1(path, images))
    assert np.mean(masks == expected) >= 0.995
    assert export.sidecar.read(path)["labels"][:2] == ["background", "0"]


@pytest.mark.slow
def test_export_predict_prints_the_masks_classes(segment_run):
    model_dir, _, root = segment_run
    result = run(predict_cli, f"--model={model_dir}/export/model_int8.tflite", str(root / "images/0.png"))
    assert "32x32 mask: class " in result.stdout and "%" in result.stdout
