"""zoo: a Keras 3 model zoo. `zoo.create_model(name)` builds any registered model."""

from zoo.quiet import start_quietly

start_quietly()  # only for python -m zoo_apps.<app> / python -m export: native logs to a file

# ruff: noqa: E402

from zoo import (  # noqa: F401  (importing a family registers its models)
    generative,
    recommend,
    tabular,
    text,
    vision,
)
from zoo.audio import keyword_spotting  # noqa: F401  (audio models; zoo.audio itself imports no Keras)
from zoo.errors import ZooError  # noqa: F401
from zoo.explainability import explain  # noqa: F401
from zoo.factory import create_model  # noqa: F401
from zoo.pretrained import load_pretrained  # noqa: F401
from zoo.registry import list_models, model_info, register_model  # noqa: F401
from zoo.tasks import get_task, list_tasks  # noqa: F401
from zoo.versions import __version__  # noqa: F401
