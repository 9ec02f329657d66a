"""The waveform input side: raw 16 kHz mono samples in [-1, 1]; the log-mel front end is inside the model.

Files take a float32 `[1, samples]` window (also the int8 file: its front end stays float32, its
convolutions are int8; `INT8_FLOAT_OPERATORS`) with the AudioProperties (sample rate, channels) in the
input's metadata that MediaPipe's `AudioClassifier` needs to resample and window an app's audio.
"""

import numpy as np
import tensorflow as tf

from zoo.audio import waveforms
from zoo.datasets.audio import load_audio_dataset
from zoo.errors import ZooError
from zoo.tasks.base import Dataset, InputSide
from zoo.tasks.classification import calibration_inputs
from zoo.tasks.image_input import describe_array

MAX_SHIFT = 0.1  # augmentation: time shift up to 100 ms either way
# What the int8 file keeps in float32: the front end's operators (int8 cannot hold a waveform's quiet samples
# nor a power spectrum's range), and the feature normalization and logits that share their types. The
# convolutions, which hold nearly all weights and compute, are int8.
INT8_FLOAT_OPERATORS = ("GATHER", "RESHAPE", "MUL", "ADD", "PAD", "REAL", "IMAG", "LOG", "FULLY_CONNECTED")
NOISE_PROBABILITY, NOISE_LEVELS = 0.8, (-3.5, -1.0)  # background noise on 80% of clips, RMS 10**-3.5 to 0.1
GAINS = (-0.5, 0.2)  # augmentation: loudness times 10**-0.5 (-10 dB) to 10**0.2 (+4 dB)


def _unit_rms(noise):
    noise -= tf.reduce_mean(noise, axis=1, keepdims=True)
    return noise / (tf.math.reduce_std(noise, axis=1, keepdims=True) + 1e-9)


def augment_waveforms(waveforms_, seed):
    """Shifts each clip of a `(batch, samples)` batch in time (zeros fill in), changes its loudness and adds
    background noise (a random mix of white and brown noise at a random level); stateless: the result depends
    only on `seed` (shape (2,))."""
    seeds = tf.random.experimental.stateless_split(seed, 6)
    batch, length = tf.shape(waveforms_)[0], tf.shape(waveforms_)[1]
    limit = tf.cast(MAX_SHIFT * tf.cast(length, tf.float32), tf.int32)
    shift = tf.random.stateless_uniform([batch], seeds[0], -limit, limit + 1, dtype=tf.int32)
    source = tf.range(length)[None, :] - shift[:, None]
    inside = (source >= 0) & (source < length)
    shifted = tf.gather(waveforms_, tf.clip_by_value(source, 0, length - 1), batch_dims=1)
    shifted = tf.where(inside, shifted, tf.zeros_like(shifted))
    shifted *= 10 ** tf.random.stateless_uniform([batch, 1], seeds[5], *GAINS)
    white = tf.random.stateless_normal(tf.shape(waveforms_), seeds[1])
    mix = tf.random.stateless_uniform([batch, 1], seeds[2])
    noise = _unit_rms(mix * white + (1 - mix) * _unit_rms(tf.cumsum(white, axis=1)))
    level = 10 ** tf.random.stateless_uniform([batch, 1], seeds[3], *NOISE_LEVELS)
    level *= tf.cast(tf.random.stateless_uniform([batch, 1], seeds[4]) < NOISE_PROBABILITY, tf.float32)
    return tf.clip_by_value(shifted + level * noise, -1.0, 1.0)


class AudioInput(InputSide):
    """Raw mono waveforms, float32 in [-1, 1], 16 kHz, (samples,); the log-mel front end is inside the model."""

    catalog = (
        Dataset(
            "speech_words",
            "12 classes: yes, no, up, down, left, right, on, off, stop, go, unknown (24 other words) and silence "
            "(noise), 1 s at 16 kHz, synthesized at first use with eSpeak NG (pip install espeakng-loader) across "
            "8 English accents, ~90 voice variants, speeds and pitches; 250/30/100 clips per class; validation and "
            "test voices are never heard in training (drawn with the run's seed); cached in ~/.cache/zoo",
            "Trained on synthetic eSpeak NG speech: real voices, microphones, rooms and noise fare worse; "
            "fine-tune on recordings (--dataset=folder:DIR --pretrained=RUN) before trusting it on people.",
        ),
        Dataset(
            "folder:DIR",
            "your WAV files, one sub-folder per class (the Speech Commands layout; folders starting with _ such "
            "as _background_noise_ are left out), resampled to 16 kHz, cut or padded to 1 s, split 80/10/10 "
            "with the run's seed",
        ),
    )
    recipe_keys = ("augment",)
    description = (
        "`waveform`: float32 mono samples in [-1, 1] at 16 kHz, shape {shape}; the log-mel front end is inside"
    )
    int8_input_type = "float32"  # MediaPipe feeds float samples; the front end runs in float
    mediapipe_task = "AudioClassifier"

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        return load_audio_dataset(dataset, seed=seed)

    def training_pipelines(self, splits, recipe, seed):
        train = splits.train.cache()
        train = train.shuffle(max(int(train.cardinality()), 1), seed=seed, reshuffle_each_iteration=True)
        train = train.batch(recipe["batch_size"])
        if recipe["augment"]:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            train = tf.data.Dataset.zip(train, seeds).map(
                lambda batch, pair: (augment_waveforms(batch[0], pair), batch[1]), num_parallel_calls=tf.data.AUTOTUNE
            )
        validation = splits.validation.cache().batch(recipe["batch_size"])
        return train.prefetch(tf.data.AUTOTUNE), validation.prefetch(tf.data.AUTOTUNE)

    def export_inputs(self, config, model, splits):
        metadata = dict(
            input_shape=list(model.input_shape[1:]),
            input_value_range=[-1.0, 1.0],
            sample_rate=waveforms.SAMPLE_RATE,
            channels=1,
            int8_float_operators=list(INT8_FLOAT_OPERATORS),
            input_description=f"float32 mono samples in [-1, 1] at {waveforms.SAMPLE_RATE} Hz, "
            f"{model.input_shape[1] / waveforms.SAMPLE_RATE:g} s; the log-mel front end is inside the model",
        )
        return model, calibration_inputs(splits.train), metadata

    def predictor_inputs(self, predictor, inputs):
        shape = tuple(predictor.metadata.get("input_shape") or predictor.input_shape)
        inputs = np.asarray(inputs)
        if inputs.dtype.kind not in "iuf":
            raise ZooError(
                f"{predictor.path.name} classifies audio: pass float samples of shape {shape} or a batch of them "
                f"(export.predict reads WAV files). Received: {describe_array(inputs)}"
            )
        inputs = inputs[None] if inputs.shape == shape else inputs
        if inputs.shape[1:] != shape or len(inputs) == 0:
            raise ZooError(
                f"{predictor.path.name} takes {shape[0]} samples at {predictor.metadata.get('sample_rate')} Hz or a "
                f"batch of them: cut or pad the clip (zoo.audio.waveforms.fit). Received: shape {inputs.shape}"
            )
        if inputs.dtype.kind in "iu" or not np.isfinite(inputs).all() or np.abs(inputs).max() > 1:
            raise ZooError(
                f"{predictor.path.name} takes finite float samples in [-1, 1] (16-bit PCM divided by 32768). "
                f"Received: {describe_array(inputs)} from {inputs.min()} to {inputs.max()}"
            )
        return inputs.astype(np.float32)

    def read_inputs(self, predictor, args):
        """WAV files, resampled to the file's rate and cut or padded to its window as in training."""
        length = tuple(predictor.metadata.get("input_shape") or predictor.input_shape)[0]
        return np.stack([waveforms.read_wav(path, length) for path in args]), {}

    def tensor_metadata(self, description, detail):
        """Audio content with its AudioProperties (sample rate, channels): what MediaPipe resamples and windows to."""
        return dict(
            name=detail["name"],
            description=description.get("input_description", ""),
            content="audio",
            sample_rate=int(description.get("sample_rate", waveforms.SAMPLE_RATE)),
            channels=int(description.get("channels", 1)),
            min=[-1.0],
            max=[1.0],
        )

    def card_usage_input(self, config):
        return f"waveforms)  # float32 samples in [-1, 1] at 16 kHz, shape (batch, {config['input_shape'][0]})"

    def card_limitations(self, config):
        return [
            "- It hears one 1 s window: to spot words in a stream, slide the window (e.g. every 250 ms) and "
            "smooth the answers over a few windows, as MediaPipe's AudioClassifier in stream mode does."
        ]
