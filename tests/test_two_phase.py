"""Two-phase fine-tuning in the apps' trainer: the head alone, then the whole network, as one run that resumes
in the right phase (`zoo_apps.phases`)."""

import csv
import json

import keras
import numpy as np
import pytest

import zoo
from helpers import assert_one_line_error, run, write_pngs
from zoo.pretrained import imagenet
from zoo.registry import model_defaults
from zoo.run_folder import RunFolder, load_keras_file
from zoo_apps import image_classify, phases, trainer

FAST = ["--model=cnn", "--dataset=digits", "--batch_size=128"]


class Killed(Exception):
    pass


def weights_by_layer(model):
    """Every layer's weights (batch norm's moving statistics too), copied."""
    return {layer.name: [np.array(w) for w in layer.weights] for layer in model.layers if layer.weights}


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture
def snapshots(monkeypatch):
    """`[(when, weights_by_layer)]` at the start of each phase ("begin") and after each epoch (its index)."""
    taken = []
    begin, end = trainer.Progress.on_train_begin, trainer.Progress.on_epoch_end

    def on_train_begin(self, logs=None):
        taken.append(("begin", weights_by_layer(self.model)))
        begin(self, logs)

    def on_epoch_end(self, epoch, logs=None):
        end(self, epoch, logs)
        taken.append((epoch, weights_by_layer(self.model)))

    monkeypatch.setattr(trainer.Progress, "on_train_begin", on_train_begin)
    monkeypatch.setattr(trainer.Progress, "on_epoch_end", on_epoch_end)
    return taken


def test_recipes_without_head_epochs_have_one_phase_and_the_imagenet_recipe_has_two():
    cnn = zoo.model_info("cnn")["recipe"]
    assert "head_epochs" not in cnn and phases.plan(cnn) == [phases.Phase("all", 0, cnn["epochs"], cnn)]
    assert model_defaults("cnn", {}, True)[1] == cnn
    scratch = model_defaults("efficientnet_lite0", {})[1]
    assert scratch == zoo.model_info("efficientnet_lite0")["recipe"] and "head_epochs" not in scratch
    for pretrained in (True, "imagenet"):
        recipe = model_defaults("efficientnet_lite0", {}, pretrained)[1]
        head, whole = phases.plan(recipe)
        assert (head.name, head.start, head.end, head.recipe["learning_rate"]) == ("head", 0, 5, 1e-3)
        assert (whole.name, whole.start, whole.end, whole.recipe["learning_rate"]) == ("all", 5, 15, 1e-4)
        assert recipe["lr_schedule"] == "constant" and recipe["label_smoothing"] == 0.1


def test_a_checkpoint_resumes_in_the_phase_whose_epoch_wrote_it():
    plan = phases.plan(dict(zoo.model_info("cnn")["recipe"], head_epochs=2, epochs=3))
    assert [phases.resuming_phase(plan, finished) for finished in range(6)] == [0, 0, 0, 1, 1, 1]
    unset = phases.plan(dict(zoo.model_info("cnn")["recipe"], head_epochs=2, epochs=3, learning_rate=0.01))
    assert unset[0].recipe["learning_rate"] == 0.01  # no head_learning_rate: the run's


@pytest.mark.parametrize(
    "flag, message",
    [
        (
            "--head_learning_rate=nan",
            "--head_learning_rate must be a positive finite number (e.g. 0.001). Received: nan",
        ),
        ("--head_learning_rate=0", "--head_learning_rate must be a positive finite number (e.g. 0.001). Received: 0.0"),
        ("--head_epochs=-1", "--head_epochs=-1"),  # the flag's lower bound
    ],
)
def test_a_bad_phase_setting_is_one_line_before_anything_is_written(tmp_path, flag, message):
    result = run(image_classify.main, *FAST, "--epochs=1", flag, f"--model_dir={tmp_path / 'run'}", check=False)
    assert_one_line_error(result, message)
    assert not (tmp_path / "run").exists()


def test_a_model_without_a_logits_layer_cannot_warm_up_its_head():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs))
    phases.check_head(model, dict(head_epochs=0), "plain")  # one phase: no head needed
    with pytest.raises(zoo.ZooError, match="--head_epochs trains the 'logits' layer alone first, and model 'plain'"):
        phases.check_head(model, dict(head_epochs=1), "plain")


@pytest.mark.slow
def test_the_head_phase_trains_only_the_head_and_the_second_phase_the_rest(tmp_path, snapshots):
    model_dir = tmp_path / "run"
    run(
        image_classify.main,
        *FAST,
        "--head_epochs=1",
        "--head_learning_rate=0.01",
        "--epochs=1",
        f"--model_dir={model_dir}",
    )
    assert [when for when, _ in snapshots] == ["begin", 0, "begin", 1]
    start, after_head, after_all = snapshots[0][1], snapshots[1][1], snapshots[3][1]
    assert not same(after_head["logits"], start["logits"])
    assert all(same(after_head[name], start[name]) for name in start if name != "logits")  # bit-identical
    assert all(not same(after_all[name], after_head[name]) for name in start)
    folder = RunFolder(model_dir)
    assert folder.config()["run"]["recipe"]["head_epochs"] == 1 and folder.metrics()["epochs_run"] == 2
    with open(folder.file("history.csv")) as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]  # one history over both phases


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    write_pngs(root / "data", count=20, size=12)
    return root


def two_phase_run(photos, model_dir):
    args = ["--model=convnet", f"--dataset=folder:{photos / 'data'}", "--batch_size=16"]
    return run(image_classify.main, *args, "--head_epochs=2", "--epochs=2", f"--model_dir={model_dir}")


@pytest.mark.slow
@pytest.mark.parametrize("killed_after", [1, 2, 3])  # epochs: in the head phase, at the boundary, in the second
def test_a_run_killed_in_either_phase_resumes_there_and_ends_like_an_uninterrupted_one(
    photos, tmp_path, monkeypatch, killed_after
):
    straight = photos / "straight"
    if not straight.exists():
        two_phase_run(photos, straight)

    def killed(self, epoch, logs=None):
        if epoch + 1 == killed_after:
            raise Killed  # after the checkpoint of that epoch is written

    with monkeypatch.context() as patch:
        patch.setattr(trainer.Progress, "on_epoch_end", killed)
        patch.setattr(trainer, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint after every epoch
        with pytest.raises(Killed):
            two_phase_run(photos, tmp_path / "resumed")
    two_phase_run(photos, tmp_path / "resumed")
    ended, resumed = RunFolder(straight), RunFolder(tmp_path / "resumed")
    assert (
        resumed.metrics()["resumed_from_epoch"] == killed_after and resumed.metrics()["epochs_run"] == 4 - killed_after
    )
    for key in ("test", "validation_accuracy"):
        assert resumed.metrics()[key] == ended.metrics()[key]
    for a, b in zip(*(load_keras_file(folder.model_path).get_weights() for folder in (ended, resumed))):
        np.testing.assert_array_equal(a, b)
    with open(resumed.file("history.csv")) as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1", "2", "3"]


needs_wheel = pytest.mark.skipif(
    imagenet.importlib.util.find_spec(imagenet.PACKAGE) is None, reason=f"ImageNet wheel missing: {imagenet.PIP}"
)


@needs_wheel
@pytest.mark.slow
def test_fine_tuning_efficientnet_from_imagenet_warms_up_the_head_then_trains_the_backbone(tmp_path, snapshots):
    write_pngs(tmp_path / "data", count=20, size=32)
    args = ["--model=efficientnet_lite0", "--pretrained=imagenet", f"--dataset=folder:{tmp_path / 'data'}"]
    run(
        image_classify.main, *args, "--head_epochs=1", "--epochs=1", "--batch_size=8", f"--model_dir={tmp_path / 'run'}"
    )
    recipe = json.loads((tmp_path / "run" / "config.json").read_text())["run"]["recipe"]
    assert (recipe["head_learning_rate"], recipe["learning_rate"], recipe["lr_schedule"]) == (1e-3, 1e-4, "constant")
    start, after_head, after_all = snapshots[0][1], snapshots[1][1], snapshots[3][1]
    assert not same(after_head["logits"], start["logits"])
    assert all(same(after_head[name], start[name]) for name in start if name != "logits")
    batch_norms = [name for name in start if name.endswith("_bn")]
    assert len(batch_norms) == 49 and all(same(after_all[name], start[name]) for name in batch_norms)  # frozen
    assert not same(after_all["stem"], start["stem"]) and not same(after_all["head"], start["head"])
    command = next(
        line for line in (tmp_path / "run" / "MODEL_CARD.md").read_text().splitlines() if "--head_epochs=1" in line
    )
    assert "--learning_rate" not in command and "--lr_schedule" not in command  # the ImageNet recipe's, unsaid
