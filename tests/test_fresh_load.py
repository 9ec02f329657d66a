"""What the README promises about loading a model.keras with keras.saving.load_model in a fresh process."""

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import run, write_reviews
from zoo.run_folder import load_keras_file
from zoo_apps import image_classify, tabular, text_classify

pytestmark = pytest.mark.slow  # trains, saves and reloads every model in fresh processes (full suite only)

LOAD = """
import json, sys
import keras, numpy as np
{imports}
answers = {{}}
for name, path in json.loads(sys.argv[1]).items():
    try:
        model = keras.saving.load_model(path)
    except Exception as error:
        answers[name] = type(error).__name__ + ": " + " ".join(str(error).split())
        continue
    np.savez(path + ".weights.npz", *model.get_weights())
    answers[name] = "loaded"
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """One finished run's model.keras per kind: an image, a text and a tabular model."""
    root = tmp_path_factory.mktemp("fresh")
    one_epoch = ["--epochs=1", "--batch_size=128"]
    run(image_classify.main, "--model=cnn", "--dataset=digits", *one_epoch, f"--model_dir={root / 'image'}")
    reviews = write_reviews(root / "reviews")
    run(text_classify.main, "--model=textcnn", f"--dataset=lines:{reviews}", *one_epoch, f"--model_dir={root / 'text'}")
    run(tabular.main, "--model=mlp", "--dataset=iris", *one_epoch, f"--model_dir={root / 'tabular'}")
    return {kind: str(root / kind / "model.keras") for kind in ("image", "text", "tabular")}


def load_in_a_fresh_process(model_files, imports):
    code = LOAD.format(imports=imports)
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(model_files)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_with_import_zoo_every_model_loads_with_keras_alone(model_files):
    assert load_in_a_fresh_process(model_files, "import zoo") == {kind: "loaded" for kind in model_files}
    for path in model_files.values():
        with np.load(path + ".weights.npz") as loaded:
            weights = [loaded[f"arr_{i}"] for i in range(len(loaded.files))]
        expected = load_keras_file(path).get_weights()
        assert len(weights) == len(expected) > 0
        for a, b in zip(weights, expected):
            np.testing.assert_array_equal(a, b)


def test_without_import_zoo_only_models_of_keras_layers_load(model_files):
    """Keras imports the module of a saved class itself only for keras and keras-hub classes: the README
    says to `import zoo` first, and this is the error without it."""
    answers = load_in_a_fresh_process(model_files, "")
    assert answers["image"] == "loaded"
    assert answers["text"].startswith("TypeError: ") and "Could not locate class 'WordVectorizer'" in answers["text"]
    assert (
        answers["tabular"].startswith("TypeError: ") and "Could not locate class 'ImputeMissing'" in answers["tabular"]
    )
