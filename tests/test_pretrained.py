"""Pretrained weights: the manifest, verified local and loopback (127.0.0.1) downloads with
resume, fine-tuning with a fresh head, a user's own runs, `--pretrained` in both apps, and
every entry the package ships."""

import contextlib
import http.server
import json
import logging
import re
import shutil
import socket
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from helpers import assert_one_line_error, run, slow_unless
from zoo.datasets import load_image_dataset
from zoo.pretrained import manifest
from zoo.pretrained.weights_file import (
    SUFFIX,
    read_weights,
    save_float16_weights,
    sha256_of,
)
from zoo.tasks.classification import predict_logits
from zoo_apps import image_classify, text_classify

SHAPE = (8, 8, 1)
FAST = ["--dataset=digits", "--epochs=1", "--batch_size=64"]


def write_tiny_manifest(folder, ship=True):
    """A manifest in `folder` with one 4-class `cnn` entry, `cnn_tiny`, its file in `weights/`
    (or beside the manifest if not `ship`); returns the manifest's path."""
    keras.utils.set_random_seed(0)
    weights_file = folder / "weights" / f"cnn_tiny{SUFFIX}"
    save_float16_weights(zoo.create_model("cnn", num_classes=4, input_shape=SHAPE), weights_file)
    entry = dict(
        model="cnn",
        dataset="digits",
        default=True,
        builder_kwargs={},
        num_classes=4,
        input=dict(name="pixels", shape=list(SHAPE), dtype="float32", range=[0, 255]),
        file=weights_file.name,
        size_bytes=weights_file.stat().st_size,
        sha256=sha256_of(weights_file),
        url=None,
    )
    manifest.write_manifest({"cnn_tiny": entry}, folder / "manifest.json")
    if not ship:
        shutil.move(weights_file, folder / weights_file.name)
    return folder / "manifest.json"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The tiny manifest as the package's own (so `pretrained=True` finds it), and its weights."""
    path = write_tiny_manifest(tmp_path)
    monkeypatch.setattr(manifest, "MANIFEST_PATH", path)
    return path, read_weights(tmp_path / "weights" / f"cnn_tiny{SUFFIX}")


def assert_has_weights(model, weights, skip=(), atol=0.0):
    for variable in model.weights:
        if not variable.path.startswith(skip):
            np.testing.assert_allclose(
                np.asarray(variable), weights[variable.path].astype(np.float32), rtol=0, atol=atol
            )


def test_entry_loads_offline_by_entry_model_or_default_and_matches_its_hash(tiny):
    path, weights = tiny
    entry = manifest.pretrained_info("cnn_tiny")
    assert sha256_of(path.with_name("weights") / entry["file"]) == entry["sha256"]
    for model in (
        zoo.load_pretrained("cnn_tiny"),
        zoo.load_pretrained("cnn"),  # a model name: its default entry
        zoo.create_model("cnn", pretrained=True),
        zoo.create_model("cnn", pretrained="cnn_tiny"),
    ):
        assert model.input_shape == (None, *SHAPE) and model.output_shape == (None, 4)
        assert_has_weights(model, weights)


@pytest.mark.parametrize("damage", ["flip_a_byte", "truncate"])
def test_damaged_shipped_file_is_refused_naming_both_hashes(tiny, damage):
    path, _ = tiny
    entry = manifest.pretrained_info("cnn_tiny")
    weights_file = path.with_name("weights") / entry["file"]
    data = bytearray(weights_file.read_bytes())
    if damage == "flip_a_byte":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 2 :]
    weights_file.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError) as error:
        zoo.create_model("cnn", pretrained=True)
    message = str(error.value)
    assert entry["sha256"] in message and sha256_of(weights_file) in message and "\n" not in message


def test_new_class_count_keeps_the_backbone_and_starts_a_fresh_head(tiny, caplog):
    _, weights = tiny
    with caplog.at_level(logging.WARNING, logger="zoo.pretrained.loading"):
        model = zoo.create_model("cnn", pretrained=True, num_classes=3)
    assert_has_weights(model, weights, skip="logits/")
    assert model.get_layer("logits").kernel.shape == (64, 3) and model.output_shape == (None, 3)
    (note,) = [record.getMessage() for record in caplog.records]
    assert "the 'logits' head is new (3 classes)" in note and "\n" not in note


@pytest.mark.parametrize(
    "pretrained, message",
    [
        ("cnn_tinny", "No pretrained weights named 'cnn_tinny'. Did you mean cnn_tiny?"),
        ("runs/no_such_run", "runs/no_such_run does not exist: pass a run's --model_dir"),
        (3, "pretrained takes True, an entry name or a path. Received: pretrained=3"),
    ],
)
def test_bad_pretrained_values_are_clear_errors(tiny, pretrained, message):
    with pytest.raises(zoo.ZooError, match=re.escape(message)):
        zoo.create_model("cnn", pretrained=pretrained)


def test_models_without_entries_or_default_and_entries_of_other_models_are_refused(tiny):
    with pytest.raises(zoo.ZooError, match="'lenet5' has no pretrained weights .models that have: cnn"):
        zoo.create_model("lenet5", pretrained=True)
    with pytest.raises(zoo.ZooError, match="cnn_tiny holds 'cnn' weights, not 'lenet5'"):
        zoo.create_model("lenet5", pretrained="cnn_tiny")
    path, _ = tiny
    entries = manifest.read_manifest(path)
    entries["cnn_tiny"]["default"] = False
    manifest.write_manifest(entries, path)
    with pytest.raises(
        zoo.ZooError, match="'cnn' has no default pretrained entry in .*: pass one of its entries by name .cnn_tiny"
    ):
        zoo.create_model("cnn", pretrained=True)


def test_local_file_folder_and_file_url_sources_are_verified(tmp_path):
    path = write_tiny_manifest(tmp_path, ship=False)
    weights_file = path.with_name(f"cnn_tiny{SUFFIX}")
    weights = read_weights(weights_file)
    for source in (tmp_path, weights_file, str(weights_file), weights_file.as_uri()):
        assert_has_weights(zoo.load_pretrained("cnn_tiny", source=source, manifest_path=path), weights)
    with pytest.raises(zoo.ZooError, match="are not in .* and the manifest gives no url"):
        zoo.load_pretrained("cnn_tiny", manifest_path=path)
    with pytest.raises(zoo.ZooError, match=f"does not exist: pass a file, or a folder holding cnn_tiny{SUFFIX}"):
        zoo.load_pretrained("cnn_tiny", source=tmp_path / "weights", manifest_path=path)
    weights_file.write_bytes(b"not the weights")
    with pytest.raises(zoo.ZooError, match=f"has sha256 {sha256_of(weights_file)} but the manifest expects"):
        zoo.load_pretrained("cnn_tiny", source=tmp_path, manifest_path=path)


class WeightsServer(http.server.BaseHTTPRequestHandler):
    """Serves `files` (URL path -> bytes), honouring `Range: bytes=N-` if `ranges`; cuts the
    first `cuts` responses after half their body. Records each request's Range header."""

    files, ranges, cuts, requests = {}, True, 0, []

    def do_GET(self):
        data = self.files[self.path]
        requested = self.headers.get("Range")
        type(self).requests.append(requested)
        start = int(requested.removeprefix("bytes=").removesuffix("-")) if requested and self.ranges else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if type(self).cuts:
            type(self).cuts -= 1
            body = body[: len(body) // 2]  # then the connection closes (HTTP/1.0)
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(files, ranges=True, cuts=0):
    """A loopback HTTP server on a free port serving `files`; yields its base URL."""
    handler = type("Handler", (WeightsServer,), dict(files=files, ranges=ranges, cuts=cuts, requests=[]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


def set_url(path, url):
    entries = manifest.read_manifest(path)
    entries["cnn_tiny"]["url"] = url
    manifest.write_manifest(entries, path)


@pytest.fixture
def remote(tmp_path, monkeypatch):
    """A manifest whose entry is not shipped, to download into ZOO_CACHE (in tmp_path).
    Returns (manifest path, file bytes, cache path of the file, server): `server(**options)`
    serves the file on 127.0.0.1 and points the entry's url at it."""
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    path = write_tiny_manifest(tmp_path, ship=False)
    data = path.with_name(f"cnn_tiny{SUFFIX}").read_bytes()

    @contextlib.contextmanager
    def server(**options):
        with serve({"/w/cnn_tiny.npz": data}, **options) as (url, requests):
            set_url(path, f"{url}/w/cnn_tiny.npz")
            yield requests

    return path, data, tmp_path / "cache" / "weights" / f"cnn_tiny{SUFFIX}", server


def test_download_is_verified_cached_and_then_loads_offline(remote):
    path, data, cached, server = remote
    with server() as requests:
        first = zoo.load_pretrained("cnn_tiny", manifest_path=path)
    assert requests == [None] and cached.read_bytes() == data
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no .part left
    again = zoo.load_pretrained("cnn_tiny", manifest_path=path)  # the server is gone
    assert_has_weights(again, {v.path: np.asarray(v) for v in first.weights})


def test_cut_connection_resumes_with_a_range_request(remote):
    path, data, cached, server = remote
    with server(cuts=1) as requests:
        zoo.load_pretrained("cnn_tiny", manifest_path=path)
    half = len(data) // 2
    assert requests == [None, f"bytes={half}-"] and cached.read_bytes() == data


@pytest.mark.parametrize("ranges", [True, False])
def test_part_file_of_an_earlier_try_is_resumed_or_restarted(remote, ranges):
    path, data, cached, server = remote
    cached.parent.mkdir(parents=True)
    cached.with_name(cached.name + ".part").write_bytes(data[:1000])
    with server(ranges=ranges) as requests:
        zoo.load_pretrained("cnn_tiny", manifest_path=path)
    assert requests == ["bytes=1000-"] and cached.read_bytes() == data  # 200 when Range is ignored


def test_download_with_another_hash_is_discarded(remote):
    path, data, cached, server = remote
    entries = manifest.read_manifest(path)
    entries["cnn_tiny"]["sha256"] = expected = "0" * 64
    manifest.write_manifest(entries, path)
    with server():
        with pytest.raises(zoo.ZooError) as error:
            zoo.load_pretrained("cnn_tiny", manifest_path=path)
    message = str(error.value)
    assert f"sha256 {sha256_of(path.with_name(f'cnn_tiny{SUFFIX}'))}" in message and expected in message
    assert "\n" not in message and not list(cached.parent.iterdir())


def test_offline_without_a_cached_copy_is_one_clear_error(remote):
    path, _, cached, _ = remote
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/w/cnn_tiny.npz"  # nothing listens
    set_url(path, url)
    with pytest.raises(zoo.ZooError, match=f"Could not download {url} .*Offline\\? Set ZOO_CACHE") as error:
        zoo.load_pretrained("cnn_tiny", manifest_path=path)
    assert "\n" not in str(error.value) and not cached.exists()


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """A user's run folder: a `cnn` for digits (8x8x1, 10 classes) saved as model.keras."""
    keras.utils.set_random_seed(1)
    model_dir = tmp_path_factory.mktemp("own_run")
    zoo.create_model("cnn", num_classes=10, input_shape=SHAPE).save(model_dir / "model.keras")
    return model_dir


def variables_of(model_file):
    return {v.path: np.asarray(v) for v in keras.saving.load_model(model_file).weights}


def test_create_model_from_a_run_folder_or_keras_file(own_run):
    weights = variables_of(own_run / "model.keras")
    assert_has_weights(zoo.create_model("cnn", pretrained=str(own_run)), weights)
    assert_has_weights(zoo.create_model("cnn", pretrained=own_run / "model.keras"), weights)
    fresh_head = zoo.create_model("cnn", pretrained=own_run, num_classes=3)
    assert_has_weights(fresh_head, weights, skip="logits/")
    with pytest.raises(zoo.ZooError, match="holds a 'cnn' model, not 'lenet5': pass model 'cnn'"):
        zoo.create_model("lenet5", pretrained=own_run)
    with pytest.raises(zoo.ZooError, match=re.escape("Pass input_shape=(8, 8, 1) (resize your images to it)")):
        zoo.create_model("cnn", pretrained=own_run, input_shape=(28, 28, 1))


def test_bert_runs_are_refused_with_the_preset_to_use_instead(own_run, tmp_path):
    shutil.copy(own_run / "model.keras", tmp_path / "model.keras")
    (tmp_path / "config.json").write_text(json.dumps({"run": {"model": "bert"}}))
    with pytest.raises(zoo.ZooError, match="Start it from a keras-hub preset instead"):
        zoo.create_model("bert", pretrained=tmp_path)


@pytest.mark.slow
def test_image_app_fine_tunes_from_a_run_and_writes_a_card_with_its_export(own_run, tmp_path):
    # With a learning rate too small to change a float32 weight (0 is refused), the fine-tuned run keeps the
    # weights it started from.
    model_dir = tmp_path / "fine_tuned"
    run(
        image_classify.main,
        "--model=cnn",
        f"--pretrained={own_run}",
        "--learning_rate=1e-30",
        "--export=float32",
        f"--model_dir={model_dir}",
        *FAST,
    )
    weights = variables_of(own_run / "model.keras")
    assert_has_weights(keras.saving.load_model(model_dir / "model.keras"), weights, atol=1e-28)  # zeros: +-1e-29
    assert json.loads((model_dir / "config.json").read_text())["run"]["pretrained"] == str(own_run)
    accuracy = json.loads((model_dir / "metrics.json").read_text())["test"]["accuracy"]
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert f"accuracy **{accuracy:.4f}**" in card and "scikit-learn's 1,797 8x8 handwritten digits" in card
    assert f"| initialized from | `{own_run}` (`--pretrained`)" in card and f"--pretrained={own_run}" in card
    assert "| `model_float32.tflite` |" in card and (model_dir / "export" / "model_float32.tflite").is_file()


@pytest.mark.slow
def test_text_app_fine_tunes_from_a_run_with_its_vocabulary(tmp_path):
    (tmp_path / "data").mkdir()
    for name, word in (("pos", "good"), ("neg", "bad")):
        (tmp_path / "data" / f"{name}.txt").write_text(f"a {word} film\n" * 40)
    dataset = f"--dataset=lines:{tmp_path / 'data'}"
    common = ["--model=bag_of_embeddings", dataset, "--epochs=1", "--batch_size=16"]
    result = run(text_classify.main, *common, "--pretrained=default", f"--model_dir={tmp_path}/a", check=False)
    assert_one_line_error(result, "'bag_of_embeddings' has no pretrained weights")
    assert not (tmp_path / "a").exists()
    run(text_classify.main, *common, "--sequence_length=4", "--learning_rate=0.05", f"--model_dir={tmp_path}/a")
    # A learning rate too small to change a float32 weight (0 is refused): b starts and ends as a.
    run(text_classify.main, *common, f"--pretrained={tmp_path}/a", "--learning_rate=1e-30", f"--model_dir={tmp_path}/b")
    texts = tf.constant(["a good film", "a bad film", "good"])
    first, second = (keras.saving.load_model(tmp_path / run / "model.keras") for run in "ab")
    np.testing.assert_array_equal(first.predict(texts, verbose=0), second.predict(texts, verbose=0))
    assert second.get_layer("vectorize").get_config()["sequence_length"] == 4
    card = (tmp_path / "b" / "MODEL_CARD.md").read_text()
    assert "one UTF-8 file per class" in card and f"--pretrained={tmp_path}/a" in card
    result = run(
        text_classify.main,
        *common,
        f"--pretrained={tmp_path}/b",
        "--learning_rate=1e-30",
        f"--model_dir={tmp_path}/b",
        check=False,
    )
    assert_one_line_error(
        result, f"holds a run with other settings (--pretrained {tmp_path}/a there, {tmp_path}/b now)"
    )


SHIPPED = [  # classifiers; the generators are tested in test_generate_app.py
    name
    for name in manifest.list_pretrained()
    if manifest.pretrained_info(name).get("task", "image_classification") == "image_classification"
]


def test_the_package_ships_pretrained_entries():
    assert {"cnn_mnist_5k", "convnet_mnist_5k", "lenet5_mnist_5k", "resnet20_mnist_5k", "cnn_digits"} <= set(SHIPPED)


@pytest.mark.parametrize("name", slow_unless(SHIPPED, fast=set(SHIPPED) - {"resnet20_mnist_5k"}))
def test_every_shipped_entry_loads_matches_its_hash_and_predicts_its_test_split(name):
    entry = manifest.pretrained_info(name)
    weights_file = manifest.weights_dir() / entry["file"]
    assert weights_file.stat().st_size == entry["size_bytes"] and sha256_of(weights_file) == entry["sha256"]
    assert (manifest.MANIFEST_PATH.with_name("cards") / name / "MODEL_CARD.md").is_file()
    model = zoo.load_pretrained(name)
    splits = load_image_dataset(entry["dataset"], seed=entry["seed"])
    logits, labels = predict_logits(model, splits.test)
    assert len(labels) == entry["test_examples"], name
    accuracy = float((logits.argmax(1) == labels).mean())
    assert accuracy == pytest.approx(entry["test_accuracy_float16_weights"], abs=0.01), name
