"""The front end inside every audio model: raw 16 kHz samples in, log-mel energies or MFCCs out.

30 ms Hann windows every 20 ms (49 frames a second), a 512-point FFT (a power of two: TFLite's RFFT2D
runs no other length), 40 mel bands from 20 Hz to 7.6 kHz, natural log, and optionally the first
MFCCs (an orthonormal DCT-II as a constant matrix): the features of Zhang et al. 2017 ("Hello Edge").
It converts to builtin TFLite ops (RFFT2D, REAL, IMAG, BATCH_MATMUL, LOG), so the file takes the
waveform itself; in an int8 file the front end stays float32.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError

FRAME_LENGTH, FRAME_STEP, FFT_LENGTH = 480, 320, 512
NUM_MEL_BINS, LOWER_HZ, UPPER_HZ = 40, 20.0, 7600.0
LOG_OFFSET = 1e-6
BATCH_NORM_MOMENTUM = 0.9  # moving statistics that settle within an epoch of a few thousand clips


def dct_matrix(num_inputs, num_outputs):
    """`(num_inputs, num_outputs)`: the first `num_outputs` coefficients of an orthonormal DCT-II."""
    n, k = np.arange(num_inputs)[:, None], np.arange(num_outputs)[None, :]
    matrix = np.sqrt(2.0 / num_inputs) * np.cos(np.pi / num_inputs * (n + 0.5) * k)
    matrix[:, 0] /= np.sqrt(2.0)
    return matrix.astype(np.float32)


@keras.saving.register_keras_serializable(package="zoo")
class LogMelSpectrogram(keras.layers.Layer):
    """`(batch, samples)` float waveforms in [-1, 1] -> `(batch, frames, features)`: log mel energies, or their
    first `num_coefficients` MFCCs."""

    def __init__(self, sample_rate=16_000, num_mel_bins=NUM_MEL_BINS, num_coefficients=None, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate, self.num_mel_bins = int(sample_rate), int(num_mel_bins)
        self.num_coefficients = num_coefficients and int(num_coefficients)
        self._mel = tf.signal.linear_to_mel_weight_matrix(
            self.num_mel_bins, FFT_LENGTH // 2 + 1, self.sample_rate, LOWER_HZ, UPPER_HZ
        ).numpy()
        self._dct = dct_matrix(self.num_mel_bins, self.num_coefficients) if self.num_coefficients else None

    def call(self, waveforms):
        spectrum = tf.signal.stft(tf.cast(waveforms, tf.float32), FRAME_LENGTH, FRAME_STEP, FFT_LENGTH)
        power = tf.math.real(spectrum) ** 2 + tf.math.imag(spectrum) ** 2
        features = tf.math.log(tf.matmul(power, tf.constant(self._mel)) + LOG_OFFSET)
        return features if self._dct is None else tf.matmul(features, tf.constant(self._dct))

    def compute_output_shape(self, input_shape):
        frames = None if input_shape[-1] is None else 1 + (input_shape[-1] - FRAME_LENGTH) // FRAME_STEP
        return (input_shape[0], frames, self.num_coefficients or self.num_mel_bins)

    def get_config(self):
        config = dict(sample_rate=self.sample_rate, num_mel_bins=self.num_mel_bins)
        return dict(super().get_config(), **config, num_coefficients=self.num_coefficients)


def waveform_input(input_shape, num_mel_bins=NUM_MEL_BINS, num_coefficients=None):
    """`(inputs, features)`: a raw-waveform input `(samples,)` and its normalized log-mel (or MFCC) image
    `(frames, features, 1)` (batch normalization of each feature: the statistics are learned)."""
    if len(input_shape) != 1 or input_shape[0] is None or input_shape[0] < FRAME_LENGTH:
        raise ZooError(
            f"Audio models take (samples,) of at least {FRAME_LENGTH} samples (1 s at 16 kHz: (16000,)). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="waveform")
    x = LogMelSpectrogram(num_mel_bins=num_mel_bins, num_coefficients=num_coefficients, name="log_mel")(inputs)
    x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name="feature_norm")(x)
    return inputs, keras.layers.Reshape((*x.shape[1:], 1), name="to_image")(x)
