"""Audio datasets: `speech_words` (synthesized) and `folder:DIR` (your WAV files, one folder per class)."""

import pathlib

import numpy as np
import tensorflow as tf

from zoo.audio import waveforms
from zoo.datasets.folders import class_files
from zoo.datasets.splits import Splits, digest_of, shuffled_split_indices
from zoo.errors import ZooError

WAV_EXTENSIONS = (".wav",)


def audio_splits(name, parts, class_names, notes=None, test_groups=None):
    """`Splits` of `{split: (clips, labels)}`; int16 clips become float32 in [-1, 1]."""
    datasets, examples = [], []
    for split in ("train", "validation", "test"):
        clips, labels = parts[split]
        clips = waveforms.to_float(clips)
        datasets.append(tf.data.Dataset.from_tensor_slices((clips, np.asarray(labels, np.int64))))
        examples.append([clip.tobytes() + str(label).encode() for clip, label in zip(clips, labels)])
    extras = dict(test_groups=list(test_groups)) if test_groups is not None else {}
    return Splits(
        name,
        *datasets,
        class_names=list(class_names),
        input_shape=(waveforms.CLIP_SAMPLES,),
        task="audio_classification",
        digest=digest_of(examples),
        notes=dict(notes or {}),
        extras=extras,
    )


def load_wav_folder(root, seed=0):
    """`folder:DIR`: one sub-folder of WAV files per class (Speech Commands' layout; folders starting with `_`,
    such as `_background_noise_`, and hidden ones are left out), resampled to 16 kHz, cut or padded to 1 s,
    split 80/10/10 with `seed`. A file that cannot be read or holds no samples is an error naming it."""
    names, files, labels = class_files(pathlib.Path(root), WAV_EXTENSIONS, "WAV")
    keep = [index for index, name in enumerate(names) if not name.startswith("_")]
    class_names = [names[index] for index in keep]
    if len(class_names) < 2:
        raise ZooError(f"{root} has {len(class_names)} class folder(s) of WAV files: a classifier needs at least 2.")
    pairs = [(path, keep.index(label)) for path, label in zip(files, labels) if label in keep]
    clips = np.stack([waveforms.read_wav(path) for path, _ in pairs])
    labels = np.array([label for _, label in pairs])
    indices = shuffled_split_indices(len(labels), seed)
    parts = {split: (clips[idx], labels[idx]) for split, idx in zip(("train", "validation", "test"), indices)}
    return audio_splits(f"folder:{root}", parts, class_names, dict(files=len(pairs)))


def load_speech_words(seed=0, clips_per_class=None):
    """The `Splits` of `speech_words` for `seed`; `extras["test_groups"]`: each test clip's voice variant."""
    from zoo.audio import synthesis
    from zoo.datasets import speech_words

    arrays, notes = speech_words.load(seed, clips_per_class)
    parts = {split: (arrays[split], arrays[f"{split}_labels"]) for split in ("train", "validation", "test")}
    groups = [str(voice) for voice in arrays["test_voices"]]
    return audio_splits("speech_words", parts, list(synthesis.CLASS_NAMES), notes, groups)


def load_audio_dataset(dataset, seed=0, clips_per_class=None):
    """The `Splits` of `speech_words` or `folder:DIR`; anything else is a `ZooError` naming both."""
    if dataset == "speech_words":
        return load_speech_words(seed, clips_per_class)
    if dataset.startswith("folder:"):
        return load_wav_folder(dataset.partition(":")[2], seed)
    raise ZooError(f"Unknown audio dataset {dataset!r}: use speech_words or folder:DIR (WAV files per class).")
