"""Text classification: the text input side plus the classification head."""

from zoo.tasks.base import Task
from zoo.tasks.classification import ClassificationHead
from zoo.tasks.text_input import TextInput


class TextClassification(Task):
    name, app = "text_classification", "text_classify"
    default_model, default_dataset = "textcnn", "mr"
    side, head = TextInput(), ClassificationHead()
