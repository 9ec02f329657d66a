"""Audio classification (keyword spotting): the waveform input side plus the classification head.

Besides the head's confusion matrix, a run draws one test clip of each class as the models hear it
(`spectrograms.png`: the log-mel front end's output).
"""

import numpy as np

from zoo.tasks.audio_input import AudioInput
from zoo.tasks.base import Task
from zoo.tasks.classification import ClassificationHead


def plot_spectrograms(examples, path):
    """One log-mel spectrogram per `{class name: waveform}`, in a grid of 4 columns."""
    from zoo import plots
    from zoo.audio.frontend import LogMelSpectrogram

    names = list(examples)
    features = np.asarray(LogMelSpectrogram()(np.stack([examples[name] for name in names])))
    rows = -(-len(names) // 4)
    figure, axes = plots.plt.subplots(rows, 4, figsize=(12, 2.2 * rows), squeeze=False)
    for axis, name, image in zip(axes.flat, names, features):
        axis.imshow(image.T, origin="lower", aspect="auto", cmap="magma")
        axis.set_title(name)
        axis.set_xlabel("frame (20 ms)")
        axis.set_ylabel("mel band")
    for axis in axes.flat[len(names) :]:
        axis.axis("off")
    plots.save(figure, path)


class AudioClassification(Task):
    name, app = "audio_classification", "audio_classify"
    default_model, default_dataset = "ds_cnn", "speech_words"
    side, head = AudioInput(), ClassificationHead()

    def evaluate(self, model, splits):
        metrics, outputs = super().evaluate(model, splits)
        examples = {}
        for clip, label in splits.test.as_numpy_iterator():
            examples.setdefault(splits.class_names[label], clip)
            if len(examples) == splits.num_classes:
                break
        return metrics, dict(outputs, clips={name: examples[name] for name in splits.class_names if name in examples})

    def write_plots(self, folder, outputs):
        plot_spectrograms(outputs["clips"], folder.file("spectrograms.png"))
        return self.head.write_plots(folder, outputs) + [
            (
                "spectrograms.png",
                "One test clip per class: its log-mel spectrogram, as the model's front end computes it",
            )
        ]
