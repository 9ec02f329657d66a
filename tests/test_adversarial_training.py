"""`--adversarial=pgd|fgsm` of image_classify: adversarial training (Madry et al. 2018) as a recipe option."""

import json

import numpy as np
import pytest

import zoo
from helpers import assert_one_line_error, run
from zoo.explainability import attacks, explainers
from zoo.tasks.classification import paired_difference_interval
from zoo_apps import image_classify

pytestmark = pytest.mark.slow  # real trainings

ADVERSARIAL = ["--adversarial=pgd", "--adversarial_epsilon=25", "--adversarial_steps=3"]


@pytest.fixture(scope="module")
def adversarial_run(tmp_path_factory):
    """The shipped cnn_digits fine-tuned for 2 epochs on PGD batches of budget 25."""
    model_dir = tmp_path_factory.mktemp("adversarial") / "run"
    arguments = ["--model=cnn", "--dataset=digits", "--pretrained=cnn_digits", "--epochs=2", *ADVERSARIAL]
    run(image_classify.main, *arguments, f"--model_dir={model_dir}")
    return model_dir, arguments


def test_adversarial_training_makes_the_model_robust(adversarial_run):
    model_dir, _ = adversarial_run
    config = json.loads((model_dir / "config.json").read_text())
    assert config["run"]["adversarial"] == dict(method="pgd", epsilon=25.0, steps=3)
    splits = zoo.get_task("image_classification").load_data("digits", seed=0)
    images, labels = (np.concatenate([np.asarray(part) for part in column]) for column in zip(*splits.test.batch(500)))
    trained, shipped = explainers.load_model(model_dir)[0], zoo.load_pretrained("cnn_digits")
    right = {}
    for name, model in (("trained", trained), ("shipped", shipped)):
        adversarial = attacks.attack(model, images, labels, 25, "pgd")
        right[name] = attacks.predict_classes(model, adversarial) == labels
    low, _ = paired_difference_interval(right["trained"], right["shipped"])
    assert low > 0, (right["trained"].mean(), right["shipped"].mean())
    assert np.mean(attacks.predict_classes(trained, images) == labels) >= 0.95  # still accurate on clean images


def test_another_budget_on_the_same_run_is_refused(adversarial_run):
    model_dir, arguments = adversarial_run
    changed = [a.replace("epsilon=25", "epsilon=8") for a in arguments]
    result = run(image_classify.main, *changed, f"--model_dir={model_dir}", check=False)
    assert_one_line_error(result, "other settings (--adversarial {'method': 'pgd', 'epsilon': 25.0")


@pytest.mark.parametrize(
    "flag, message",
    [
        ("--adversarial_epsilon=0", "--adversarial_epsilon is a budget in pixels"),
        ("--adversarial_steps=0", "--adversarial_steps must be at least 1"),
        ("--adversarial=cw", "--adversarial"),
    ],
)
def test_bad_adversarial_flags_fail_in_one_line_before_writing(flag, message, tmp_path):
    arguments = ["--model=cnn", "--dataset=digits", "--adversarial=pgd", flag, f"--model_dir={tmp_path / 'run'}"]
    assert_one_line_error(run(image_classify.main, *arguments, check=False), message)
    assert not (tmp_path / "run").exists()


def test_without_the_flag_the_run_settings_are_unchanged():
    from absl import flags

    from zoo_apps import adversarial

    flag_values = flags.FlagValues()
    image_classify.define_flags(flag_values)
    flag_values(["app"])
    assert adversarial.run_entry(flag_values) == {}
    assert adversarial.run_entry(flags.FlagValues()) == {}
