"""Audio classification (keyword spotting): the waveform input side plus the classification head."""

from zoo.tasks.audio_input import AudioInput
from zoo.tasks.base import Task
from zoo.tasks.classification import ClassificationHead


class AudioClassification(Task):
    name, app = "audio_classification", "audio_classify"
    default_model, default_dataset = "ds_cnn", "speech_words"
    side, head = AudioInput(), ClassificationHead()
