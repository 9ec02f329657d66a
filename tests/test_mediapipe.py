"""Zoo files in MediaPipe Tasks, the runtime phones load models with: they open from their metadata alone
and answer as `export.Predictor` does (the same C++ as Android, iOS and web, through the `mediapipe` wheel)."""

import numpy as np
import pytest

import export
from export import mediapipe_tasks
from export.convert import FLAVOURS
from zoo.datasets import load_image_dataset

pytest.importorskip("mediapipe")


@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_grayscale_image_classifier_runs_in_mediapipe_with_predictor_answers(exported_run, flavour):
    """cnn on 8x8 grayscale digits: the file takes RGB (uint8 in the int8 file) and MediaPipe's
    ImageClassifier gives Predictor's top-1 on every test image."""
    path = exported_run[0] / f"export/model_{flavour}.tflite"
    images, _ = next(load_image_dataset("digits").test.batch(1000).as_numpy_iterator())
    predictor = export.Predictor(path)
    expected = [ranked[0][0] for ranked in predictor.predict(images, top_k=1)]
    assert mediapipe_tasks.top1(path, images) == expected
    assert predictor.file_input_shape == (8, 8, 3) and predictor.input_shape == (8, 8, 1)
    if flavour == "int8":
        (pixels,) = export.sidecar.read(path)["inputs"]
        assert pixels["dtype"] == "uint8" and pixels["quantization"] == dict(scale=1.0, zero_point=0)


@pytest.mark.slow
def test_predictor_takes_gray_or_rgb_pixels_of_a_grayscale_model(exported_run):
    predictor = export.Predictor(exported_run[0] / "export/model_float32.tflite")
    gray = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(predictor.outputs(gray), predictor.outputs(np.repeat(gray, 3, -1)), atol=1e-5)
