import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

from helpers import run  # noqa: E402


@pytest.fixture(scope="session")
def exported_run(tmp_path_factory):
    """A cnn trained for a few epochs on 8x8 digits, exported by `python -m export`: (folder, stdout)."""
    from export.__main__ import cli
    from zoo_apps import image_classify

    model_dir = tmp_path_factory.mktemp("run") / "cnn_digits"
    run(
        image_classify.main,
        "--model=cnn",
        "--dataset=digits",
        "--epochs=6",
        "--batch_size=32",
        "--learning_rate=0.003",
        "--noaugment",
        "--label_smoothing=0",
        f"--model_dir={model_dir}",
    )
    return model_dir, run(cli, f"--model_dir={model_dir}").stdout
