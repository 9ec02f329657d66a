"""Image classification: the image input side plus the classification head."""

from zoo.tasks.base import Task
from zoo.tasks.classification import ClassificationHead
from zoo.tasks.image_input import ImageInput, describe_array  # noqa: F401 (re-exported)


class ImageClassification(Task):
    name, app = "image_classification", "image_classify"
    default_model, default_dataset = "cnn", "mnist_5k"
    side, head = ImageInput(), ClassificationHead()
