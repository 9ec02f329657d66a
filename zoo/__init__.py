"""zoo: a Keras 3 model zoo. `zoo.create_model(name)` builds any registered model."""

from zoo import text  # noqa: F401  (registers the text models)
from zoo import vision  # noqa: F401  (registers the vision models)
from zoo.errors import ZooError  # noqa: F401
from zoo.pretrained import load_pretrained  # noqa: F401
from zoo.registry import create_model, list_models, model_info, register_model  # noqa: F401

__version__ = "0.1.0"
