import keras
import pytest

import zoo
from zoo.registry import register_model


def test_list_models_is_sorted_and_filters_by_pattern_and_task():
    names = zoo.list_models()
    assert names == sorted(names)
    assert {"cnn", "convnet", "lenet5", "resnet18", "resnet20", "resnet56", "mobilenet_v2"} <= set(names)
    assert zoo.list_models("resnet*") == ["resnet18", "resnet20", "resnet56"]
    assert "cnn" in zoo.list_models(task="image_classification")
    assert zoo.list_models(task="no_such_task") == []


def test_model_info_has_the_registered_config():
    info = zoo.model_info("cnn")
    assert info["task"] == "image_classification"
    assert info["input_shape"] == (28, 28, 1)
    assert {"epochs", "batch_size", "optimizer", "learning_rate"} <= set(info["recipe"])
    assert info["description"].startswith("The classic small MNIST network")
    assert info["paper"]
    info["recipe"]["epochs"] = -1  # a copy: the registry is unchanged
    assert zoo.model_info("cnn")["recipe"]["epochs"] > 0


def test_create_model_uses_registered_defaults():
    model = zoo.create_model("cnn")
    assert isinstance(model, keras.Model)
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert zoo.create_model("cnn", num_classes=3, input_shape=(16, 16, 3)).output_shape == (None, 3)


def test_unknown_model_names_close_matches():
    with pytest.raises(zoo.ZooError, match="Unknown model 'resnet2'.*Did you mean.*resnet20"):
        zoo.create_model("resnet2")


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="already registered"):

        @register_model(task="image_classification", input_shape=(1,), recipe={}, paper="")
        def cnn(num_classes=10, input_shape=(1,)):
            """Duplicate."""
