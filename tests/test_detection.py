"""Object detection: COCO metrics on a hand-checkable case, centre targets that decode back to their boxes,
the file's post-processing, its box metadata and MediaPipe's ObjectDetector on it, and (slow) the app end to
end with an exported file that Predictor reads."""

import json

import numpy as np
import pytest

from helpers import assert_one_line_error, run, write_coco_folder, write_yolo_folder
from zoo.detection import coco, points
from zoo.tasks import detection_export

# Two images. Image 0: a class-0 box found exactly (score 0.9) and a class-1 box [20, 20, 40, 40] found as
# [20, 20, 30, 40] (IoU exactly 0.5, score 0.8). Image 1: a class-1 box found exactly (score 0.7).
TRUTH_BOXES = [np.array([[0, 0, 10, 10], [20, 20, 40, 40]]), np.array([[5, 5, 15, 25]])]
TRUTH_CLASSES = [np.array([0, 1]), np.array([1])]
FOUND = [
    (np.array([[0, 0, 10, 10], [20, 20, 30, 40]]), np.array([0.9, 0.8]), np.array([0, 1])),
    (np.array([[5, 5, 15, 25]]), np.array([0.7]), np.array([1])),
]


def test_coco_metrics_of_a_hand_checked_case():
    metrics = coco.detection_metrics(TRUTH_BOXES, TRUTH_CLASSES, FOUND, ["zero", "one"])
    # At IoU 0.5 every detection is right: AP 1 for both classes. Above 0.5, class 1's best-scored detection
    # is wrong and the other right: recall reaches 1/2 at precision 1/2, so COCO's 101-point AP is 51 * 0.5 / 101.
    above = 51 * 0.5 / 101
    assert metrics["ap50"] == pytest.approx({"zero": 1.0, "one": 1.0})
    assert metrics["ap"] == pytest.approx({"zero": 1.0, "one": (1 + 9 * above) / 10})
    assert metrics["map50"] == pytest.approx(1.0)
    assert metrics["map"] == pytest.approx((1.0 + (1 + 9 * above) / 10) / 2)
    assert metrics["recall50"] == pytest.approx(1.0)
    assert (metrics["num_images"], metrics["num_objects"]) == (2, 3)


def _perfect_maps(boxes, classes, shape=(64, 64), num_classes=10):
    """Output maps a perfect detector would give: large logits at the centres, the targets' geometry."""
    target = points.encode(boxes, classes, shape, num_classes)
    logits = np.where(target[..., :num_classes] >= 1.0, 8.0, -8.0)
    return np.concatenate([logits, target[..., num_classes:-1]], -1).astype(np.float32)


def test_centre_targets_decode_back_to_their_boxes_in_keras_and_in_the_files_postprocessing():
    boxes, classes = np.array([[3, 5, 21, 30], [30, 33, 61, 60]]), np.array([7, 2])
    maps = _perfect_maps(boxes, classes)
    found_boxes, scores, found_classes = (np.asarray(v)[0] for v in points.decode(maps[None], max_detections=2))
    order = np.argsort(found_classes)[::-1]
    np.testing.assert_allclose(found_boxes[order], boxes, atol=1e-4)
    assert list(found_classes[order]) == [7, 2] and scores.min() > 0.99
    file_like = detection_export.as_pixel_detections(detection_export.detections_of(maps[None], (64, 64)), (64, 64))
    ((file_boxes, file_scores, file_classes),) = file_like
    assert len(file_boxes) == 2 and sorted(file_classes) == [2, 7]
    np.testing.assert_allclose(file_boxes[np.argsort(file_classes)[::-1]], boxes, atol=1e-3)


def test_matched_share_counts_boxes_found_by_both_with_iou_0_9_and_the_same_class():
    one = [(np.array([[0, 0, 10, 10], [20, 20, 40, 40]], float), np.array([0.9, 0.8]), np.array([0, 1]))]
    moved = [(np.array([[0, 0, 10, 10], [20, 20, 40, 36]], float), np.array([0.9, 0.8]), np.array([0, 1]))]
    relabelled = [(one[0][0], one[0][1], np.array([0, 2]))]
    assert detection_export.matched_share(one, one) == 1.0
    assert detection_export.matched_share(one, moved) == 0.5  # IoU 0.8 < 0.9
    assert detection_export.matched_share(one, relabelled) == 0.5


@pytest.fixture(scope="module")
def detection_run(tmp_path_factory):
    from zoo.datasets import detection
    from zoo_apps.detect import main

    counts, detection.SCENE_COUNTS = detection.SCENE_COUNTS, (48, 24, 24)
    try:
        model_dir = tmp_path_factory.mktemp("detect") / "run"
        result = run(main, f"--model_dir={model_dir}", "--epochs=1", "--batch_size=16", "--export=float32")
    finally:
        detection.SCENE_COUNTS = counts
    return model_dir, result


@pytest.mark.slow
def test_the_app_trains_reports_coco_metrics_and_exports_a_file_with_nms_inside(detection_run):
    import export

    model_dir, result = detection_run
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert set(metrics["test"]) >= {"map", "map50", "map75", "recall", "ap", "ap50", "map50_interval"}
    assert metrics["test"]["num_images"] == 24 and "test mAP@0.5" in result.stdout
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "mAP@0.5 **" in card and "| class | AP@[.5:.95] | AP@0.5 |" in card
    assert (model_dir / "detections.png").is_file() and (model_dir / "precision_recall.png").is_file()
    path = model_dir / "export/model_float32.tflite"
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert "NON_MAX_SUPPRESSION_V5" in sidecar["operators"]
    assert sorted(o["name"] for o in sidecar["outputs"]) == ["category", "location", "number_of_detections", "score"]
    row = next(r for r in json.loads((model_dir / "export/report.json").read_text())["files"] if r["file"] == path.name)
    assert row["matched"] >= 0.95 and row["gate"]["passed"]
    scene = np.zeros((64, 64, 1), np.float32)
    answers = export.Predictor(path).predict(scene[None])
    assert isinstance(answers, list) and len(answers) == 1


def test_a_bad_image_size_is_one_line():
    from zoo_apps.detect import main

    assert_one_line_error(run(main, "--image_size=64", check=False), "--image_size takes two positive numbers")


def test_coco_data_resizes_images_and_boxes_and_names_the_file_of_a_bad_box(tmp_path):
    from zoo.datasets.detection import load_detection_dataset
    from zoo.errors import ZooError

    load_coco = lambda path, **options: load_detection_dataset(f"coco:{path}", **options)  # noqa: E731

    splits = load_coco(str(write_coco_folder(tmp_path)), image_size=(64, 80))
    assert splits.input_shape == (64, 80, 3) and splits.class_names == ["square"]
    every = [b for part in splits.extras["boxes"].values() for b in part]
    assert len(every) == 12 and {tuple(b[0][[0, 2]]) for b in every} == {(12.0, 40.0)}  # x doubled
    bad = write_coco_folder(tmp_path, bad_box=[30, 4, 20, 10])  # x + width 50 > 40
    with pytest.raises(ZooError, match=r"scene3\.png: annotation 4: bbox .* outside the 40x32 image"):
        load_coco(str(bad))
    skipped = load_coco(str(bad), skip_bad_boxes=True)
    assert len(skipped.notes["skipped"]) == 1 and "scene3.png" in skipped.notes["skipped"][0]


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("0 0.9 0.5 0.5 0.2", r"scene3\.txt: line 1: box .* lies outside the 40x32 image"),
        ("3 0.5 0.5 0.2 0.2", r"scene3\.txt: line 1: unknown class 3 \(the names file has 1\)"),
        ("0 0.5 0.5 0 0.2", r"scene3\.txt: line 1: box .* has zero or negative area"),
        ("0 0.5 0.5", r"scene3\.txt: line 1: '0 0.5 0.5' is not `class x_center y_center width height`"),
    ],
)
def test_yolo_data_reads_like_coco_and_names_the_file_and_line_of_a_bad_box(tmp_path, bad_line, message):
    from zoo.datasets.detection import load_detection_dataset
    from zoo.errors import ZooError

    good = load_detection_dataset(f"yolo:{write_yolo_folder(tmp_path / 'good')}", image_size=(64, 80))
    coco = load_detection_dataset(f"coco:{write_coco_folder(tmp_path)}", image_size=(64, 80))
    assert good.input_shape == (64, 80, 3) and good.class_names == ["square"]
    every = [b for part in good.extras["boxes"].values() for b in part]
    assert len(every) == 12 and sum(len(b) for b in every) == 11  # scene0 has no labels file: no objects
    rounded = lambda splits: {
        tuple(np.round(b[0], 4)) for part in splits.extras["boxes"].values() for b in part if len(b)
    }  # noqa: E731
    assert rounded(coco) - rounded(good) == {(12.0, 8.0, 40.0, 28.0)}  # the same boxes but scene0's
    bad = write_yolo_folder(tmp_path / "bad", bad_line=bad_line)
    with pytest.raises(ZooError, match=message):
        load_detection_dataset(f"yolo:{bad}")
    skipped = load_detection_dataset(f"yolo:{bad}", skip_bad_boxes=True)
    assert len(skipped.notes["skipped"]) == 1 and "scene3.txt: line 1" in skipped.notes["skipped"][0]


def test_an_image_size_centernet_cannot_take_is_one_line(tmp_path):
    from zoo_apps.detect import main

    folder = write_yolo_folder(tmp_path / "yolo")
    result = run(main, f"--dataset=yolo:{folder}", "--image_size=32,40", f"--model_dir={tmp_path / 'run'}", check=False)
    assert_one_line_error(result, "centernet needs a height and width divisible by 16")


def test_a_yolo_labels_file_without_its_image_is_one_error(tmp_path):
    from zoo.datasets.detection import load_detection_dataset
    from zoo.errors import ZooError

    folder = write_yolo_folder(tmp_path)
    (folder / "images" / "scene5.png").unlink()
    with pytest.raises(ZooError, match=r"scene5\.txt: its image .*scene5\.\* is missing"):
        load_detection_dataset(f"yolo:{folder}")
    (folder / "classes.txt").unlink()
    with pytest.raises(ZooError, match=r"has no class names: write one name a line"):
        load_detection_dataset(f"yolo:{folder}")


def _fixed_maps_model(maps):
    """A Keras model that returns the centre maps `maps` for any 64x64 RGB image."""
    import keras
    import tensorflow as tf

    class Fixed(keras.layers.Layer):
        def call(self, pixels):
            return tf.constant(maps)[None] + 0.0 * tf.reduce_mean(pixels)

    pixels = keras.Input((64, 64, 3), name="pixels")
    return keras.Model(pixels, Fixed()(pixels))


# Three digits whose centre logits differ (distinct scores), boxes in pixels of the 64x64 input.
FIXED_BOXES, FIXED_CLASSES = np.array([[3, 5, 21, 30], [30, 33, 61, 60], [40, 2, 58, 20]]), np.array([7, 2, 4])


@pytest.fixture(scope="module")
def fixed_detector_files(tmp_path_factory):
    """float32 and int8 files of a detector that always finds the FIXED_BOXES, exported as the app does."""
    import export
    from zoo.detection.postprocess import INT8_FLOAT_OPERATORS, detection_model

    maps = _perfect_maps(FIXED_BOXES, FIXED_CLASSES)
    for (x1, y1, x2, y2), label, logit in zip(FIXED_BOXES // 4, FIXED_CLASSES, (4.0, 1.5, 0.2)):
        row, col = int((y1 + y2) / 2), int((x1 + x2) / 2)
        maps[row, col, label] = logit  # scores 0.98, 0.82, 0.55
    file_model = detection_model(_fixed_maps_model(maps), (64, 64))
    metadata = dict(
        task="object_detection",
        model="fixed",
        dataset="test",
        labels=[f"digit {k}" for k in range(10)],
        input_shape=[64, 64, 3],
        input_value_range=[0, 255],
        int8_float_operators=list(INT8_FLOAT_OPERATORS),
    )
    images = np.random.default_rng(0).uniform(0, 255, (8, 64, 64, 3)).astype(np.float32)
    folder = tmp_path_factory.mktemp("fixed_detector")
    paths = {flavour: folder / f"model_{flavour}.tflite" for flavour in ("float32", "int8")}
    for flavour, path in paths.items():
        export.to_tflite(file_model, path, flavour, representative_data=list(images), metadata=metadata)
    return paths, images


def test_the_file_describes_its_boxes_as_mediapipe_reads_them(fixed_detector_files):
    from export.tflite_metadata import read_metadata

    paths, _ = fixed_detector_files
    for path in paths.values():
        outputs = {tensor.name: tensor for tensor in read_metadata(path.read_bytes())["outputs"]}
        assert set(outputs) == {"location", "category", "score", "number of detections"}
        location = outputs["location"]
        assert (location.content, location.box_index) == ("bounding_box", [1, 0, 3, 2])
        assert (location.box_type, location.coordinate_type) == ("BOUNDARIES", "RATIO")
        assert [file.type for file in outputs["category"].associated_files] == ["TENSOR_VALUE_LABELS"]


@pytest.mark.slow
def test_the_int8_file_quantizes_the_network_but_decodes_in_float32(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    import export
    from zoo.detection.postprocess import INT8_FLOAT_OPERATORS, detection_model
    from zoo.vision.centernet import centernet

    file_model = detection_model(centernet(10, (64, 64, 3), width=8), (64, 64))
    images = np.random.default_rng(0).uniform(0, 255, (8, 64, 64, 3)).astype(np.float32)
    path = tmp_path / "model_int8.tflite"
    metadata = dict(task="object_detection", labels=list("0123456789"), int8_float_operators=INT8_FLOAT_OPERATORS)
    export.to_tflite(file_model, path, "int8", representative_data=list(images), metadata=metadata)
    interpreter = Interpreter(model_path=str(path))
    tensors = interpreter.get_tensor_details()
    kinds = {}
    for op in interpreter._get_ops_details():
        kinds.setdefault(op["op_name"], set()).update(tensors[i]["dtype"].__name__ for i in op["inputs"] if i >= 0)
    assert interpreter.get_input_details()[0]["dtype"].__name__ == "uint8" and kinds["CONV_2D"] == {"int8", "int32"}
    for name in ("LOGISTIC", "MAX_POOL_2D", "TOPK_V2", "NON_MAX_SUPPRESSION_V5"):
        assert "int8" not in kinds[name] and "float32" in kinds[name], (name, kinds[name])


@pytest.mark.parametrize("flavour", ["float32", "int8"])
def test_mediapipe_object_detector_finds_what_predictor_finds(fixed_detector_files, flavour):
    pytest.importorskip("mediapipe")
    import export
    from export import mediapipe_tasks

    paths, images = fixed_detector_files
    expected = export.Predictor(paths[flavour]).predict(images[:2])
    assert [label for label, _, _ in expected[0]] == ["digit 7", "digit 2", "digit 4"]
    np.testing.assert_allclose([box for _, _, box in expected[0]], FIXED_BOXES, atol=0.6)
    answers = mediapipe_tasks.top1(paths[flavour], images[:2])
    assert all(mediapipe_tasks.same_detections(a, b) for a, b in zip(expected, answers)), (expected, answers)
    assert not mediapipe_tasks.same_detections(expected[0], answers[0][:2])


def test_nms_in_the_file_is_per_class():
    """Overlapping boxes of two classes both survive; of one class, the lower score goes."""
    from zoo.detection.postprocess import suppressed

    box = [0.1, 0.1, 0.5, 0.5]
    boxes = np.array([box, [0.12, 0.1, 0.52, 0.5], box], "float32")  # IoU of the first two: about 0.9
    outputs = suppressed(boxes, np.array([0.9, 0.8, 0.7], "float32"), np.array([3, 3, 8]), max_detections=5)
    assert int(outputs["number_of_detections"][0]) == 2
    np.testing.assert_allclose(outputs["score"][0, :3], [0.9, 0.7, 0.0])
    np.testing.assert_array_equal(outputs["category"][0, :2], [3, 8])
    np.testing.assert_allclose(outputs["location"][0, 1], box)  # the boxes come back without their class offset
