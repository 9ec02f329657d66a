"""Every registered vision model exports to each TFLite flavour with builtin ops only.

Tolerances, relative to the largest Keras logit `scale` (random-init models):
float32 1e-5, float16 1e-2, dynamic 5e-2, int8 0.15 (the int8 top-1 check is
on a trained model, in test_export.py, since random models give near ties).
"""

import numpy as np
import pytest

import export
import zoo
from export import convert, verify

pytestmark = pytest.mark.slow  # conversions and trainings: the full suite only

TEST_SHAPES = {"lenet5": (16, 16, 1), "mobilenet_v2": (32, 32, 3), "resnet18": (16, 16, 3), "resnet56": (8, 8, 1)}
TEST_KWARGS = {"mobilenet_v2": dict(alpha=0.35)}
RELATIVE_TOLERANCE = {"float32": 1e-5, "float16": 1e-2, "dynamic": 5e-2, "int8": 0.15}
EXPORTABLE = [name for name in zoo.list_models(task="image_classification") if zoo.model_info(name)["exportable"]]


@pytest.mark.parametrize("name", EXPORTABLE)
def test_each_flavour_exports_with_builtin_ops_and_matches_keras(name, tmp_path):
    shape = TEST_SHAPES.get(name, (16, 16, 1))
    model = zoo.create_model(name, 4, shape, **TEST_KWARGS.get(name, {}))
    pixels = np.random.default_rng(0).integers(0, 256, (8, *shape)).astype("float32")
    pixels[0], pixels[1] = 0, 255  # calibration covers the whole pixel range
    reference = verify.keras_outputs(model, pixels)
    saved_model = convert.to_saved_model(model, tmp_path / "saved_model", batch_size=1)

    for flavour in export.FLAVOURS:
        path = tmp_path / f"model_{flavour}.tflite"
        description = export.to_tflite(saved_model, path, flavour, representative_data=list(pixels))
        assert all(op.isupper() for op in description["operators"])  # no Flex/custom ops
        assert export.operator_names(path.read_bytes()) == description["operators"]
        (tensor,) = description["inputs"]
        assert tensor["name"] == "pixels" and tensor["shape"] == [1, *shape]
        if flavour == "int8":
            assert tensor["dtype"] == "uint8"  # a camera's bytes as they are: scale 1, zero point 0
            assert tensor["quantization"] == dict(scale=pytest.approx(1.0, abs=1e-3), zero_point=0)
            assert description["outputs"][0]["dtype"] == "float32"
        else:
            assert tensor["dtype"] == "float32" and tensor["quantization"] is None
        logits = export.Predictor(path).outputs(pixels)
        scale = np.abs(reference).max()
        np.testing.assert_allclose(
            logits,
            reference,
            atol=RELATIVE_TOLERANCE[flavour] * scale + 1e-5,
            rtol=0,
            err_msg=f"{name} {flavour}",
        )
