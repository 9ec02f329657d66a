"""MODEL_CARD.md from a run's own files, for image and text runs (no training: the files are made here)."""

import json

import numpy as np
import pytest

import zoo
from zoo.card import model_card_text, write_model_card
from zoo.evaluation import classification_metrics


def finished_run(folder, model, dataset, class_names, input_shape, **settings):
    """Writes the config.json and metrics.json of a finished run (chance-level logits) into `folder`."""
    labels = np.arange(40) % len(class_names)
    logits = np.random.default_rng(0).normal(size=(40, len(class_names)))
    run = dict(
        model=model,
        task=zoo.model_info(model)["task"],
        dataset=dataset,
        seed=0,
        options={},
        pretrained=None,
        mixed_precision="float32",
        recipe=zoo.model_info(model)["recipe"],
    )
    run.update(settings)
    config = dict(run=run, input_shape=list(input_shape), class_names=class_names, versions=dict(zoo=zoo.__version__))
    metrics = dict(
        model=model,
        dataset=dataset,
        test=classification_metrics(logits, labels, class_names),
        validation_accuracy=0.5,
        num_parameters=1234,
        training_seconds=1.5,
        examples_per_second=100.0,
    )
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "model.keras").write_bytes(b"")  # only its presence is read
    return folder, metrics["test"]["accuracy"]


def test_text_run_card_describes_its_line_files_options_and_limits(tmp_path):
    model_dir, accuracy = finished_run(
        tmp_path / "run",
        "textcnn",
        "lines:data/reviews",
        ["neg", "pos"],
        (),
        options=dict(sequence_length=32),
    )
    card = write_model_card(model_dir).read_text()
    assert card.startswith("# Model card: textcnn on lines:data/reviews\n")
    assert f"accuracy **{accuracy:.4f}**" in card and "| input | raw UTF-8 strings" in card
    assert (
        "`lines:data/reviews` (`data/reviews`): one UTF-8 file per class (the class is the file name "
        "without its extension), one example per line" in card
    )
    command = "python -m zoo_apps.text_classify --model=textcnn --dataset=lines:data/reviews --seed=0"
    assert f"`{command} --sequence_length=32`" in card
    assert f'model = keras.saving.load_model("{model_dir / "model.keras"}")' in card
    assert "logits = model(texts)" in card and "probabilities = keras.ops.softmax(logits)" in card
    assert f'zoo.create_model("textcnn", pretrained="{model_dir}", num_classes=5)' in card
    assert "reads only the first 32 tokens of a text" in card and "Not exported: re-run" in card
    assert "documentation" not in card


def test_bert_run_card_offers_no_fine_tuning_from_the_run(tmp_path):
    model_dir, _ = finished_run(tmp_path / "run", "bert", "folder:reviews", ["neg", "pos"], (), options={})
    card = model_card_text(model_dir)
    assert "one sub-folder per class, one UTF-8 .txt file per example" in card
    assert "pretrained=" not in card and "reads only the first 64 tokens" in card


@pytest.mark.parametrize(
    "dataset, pretrained, expected",
    [
        (
            "cifar10",
            True,
            "The TensorFlow Datasets set `cifar10` (https://www.tensorflow.org/datasets/catalog/cifar10)",
        ),
        ("folder:photos", "runs/base", "`folder:photos` (`photos`): your images, one sub-folder per class"),
    ],
    ids=["tfds", "folder"],
)
def test_image_run_card_names_its_data_and_what_it_started_from(tmp_path, dataset, pretrained, expected):
    model_dir, _ = finished_run(
        tmp_path / "run",
        "resnet20",
        dataset,
        [str(i) for i in range(10)],
        (32, 32, 3),
        pretrained=pretrained,
        mixed_precision="mixed_bfloat16",
    )
    card = model_card_text(model_dir)
    start = "the default pretrained entry of `resnet20`" if pretrained is True else f"`{pretrained}`"
    assert expected in card and f"| initialized from | {start} (`--pretrained`), then trained as below |" in card
    flag = "default" if pretrained is True else pretrained
    assert f"--seed=0 --pretrained={flag} --mixed_precision`" in card and "tokens" not in card


def test_robust_entry_card_gives_its_adversarial_training_and_accuracy_under_attack(tmp_path):
    adversarial = dict(method="pgd", epsilon=25.0, steps=7)
    model_dir, _ = finished_run(
        tmp_path / "run", "cnn", "mnist_5k", [str(i) for i in range(10)], (28, 28, 1), adversarial=adversarial
    )
    cell = lambda accuracy: dict(accuracy=accuracy, interval=[accuracy - 0.03, accuracy + 0.02], examples=500)  # noqa: E731
    entry = dict(
        name="cnn_robust_mnist_5k",
        file="cnn_robust_mnist_5k.weights.npz",
        size_bytes=1000,
        sha256="0" * 64,
        robustness=dict(
            examples=500,
            pgd_steps=40,
            fgsm={"0": cell(0.98), "8": cell(0.97), "25": cell(0.9)},
            pgd={"0": cell(0.98), "8": cell(0.96), "25": cell(0.85)},
        ),
    )
    card = model_card_text(model_dir, entry)
    assert "--adversarial=pgd --adversarial_epsilon=25 --adversarial_steps=7`" in card
    assert "| adversarial training | PGD at 25/255 |" in card
    assert "| attack | clean | 8 | 25 |" in card and "PGD: 40 steps" in card
    assert "| PGD | 0.980 (0.950-1.000) | 0.960 (0.930-0.980) | 0.850 (0.820-0.870) |" in card
    assert "Accuracy under attack" not in model_card_text(model_dir)  # a run's own card: not measured
