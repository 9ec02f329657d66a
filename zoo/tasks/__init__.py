"""Tasks: `get_task(name)` answers data, loss, metrics, plots, card, export and decoding for one task."""

from zoo.errors import ZooError
from zoo.tasks.audio_classification import AudioClassification
from zoo.tasks.base import Dataset, ExportData, Task  # noqa: F401
from zoo.tasks.detection import ObjectDetection
from zoo.tasks.image_classification import ImageClassification
from zoo.tasks.image_generation import ImageGeneration
from zoo.tasks.masked_lm import MaskedLanguageModeling
from zoo.tasks.recommendation import recommendation_tasks
from zoo.tasks.segmentation import ImageSegmentation
from zoo.tasks.tabular import Tabular
from zoo.tasks.text_classification import TextClassification
from zoo.tasks.translation import Translation

_TASKS = {}


def register_task(task):
    """Registers a `Task` instance under its name; refuses duplicates. Returns it."""
    if task.name in _TASKS:
        raise ValueError(f"Task {task.name!r} is already registered.")
    _TASKS[task.name] = task
    return task


def get_task(name):
    """Returns the registered task `name`."""
    if name not in _TASKS:
        raise ZooError(f"Unknown task {name!r}: use one of {', '.join(list_tasks())}.")
    return _TASKS[name]


def list_tasks():
    return sorted(_TASKS)


register_task(ImageClassification())
register_task(ImageGeneration())
register_task(TextClassification())
register_task(MaskedLanguageModeling())
register_task(Tabular())
for _task in recommendation_tasks():
    register_task(_task)
register_task(AudioClassification())
register_task(ImageSegmentation())
register_task(ObjectDetection)
register_task(Translation())
