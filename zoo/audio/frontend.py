"""The log-mel front end inside every audio model: raw 16 kHz samples in, a log-mel spectrogram out.

30 ms Hann windows every 20 ms, a 512-point FFT (a power of two: TFLite's RFFT2D runs no other
length), 40 mel bands from 20 Hz to 7.6 kHz, natural log: the features of Zhang et al. 2017 ("Hello
Edge") before their DCT. It converts to builtin TFLite ops (RFFT2D, REAL, IMAG, BATCH_MATMUL, LOG),
so the file takes the waveform itself; in an int8 file the front end stays float32.
"""

import keras
import tensorflow as tf

from zoo.errors import ZooError

FRAME_LENGTH, FRAME_STEP, FFT_LENGTH = 480, 320, 512
NUM_MEL_BINS, LOWER_HZ, UPPER_HZ = 40, 20.0, 7600.0
LOG_OFFSET = 1e-6


@keras.saving.register_keras_serializable(package="zoo")
class LogMelSpectrogram(keras.layers.Layer):
    """`(batch, samples)` float waveforms in [-1, 1] -> `(batch, frames, num_mel_bins)` log mel energies."""

    def __init__(self, sample_rate=16_000, num_mel_bins=NUM_MEL_BINS, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate, self.num_mel_bins = int(sample_rate), int(num_mel_bins)
        self._mel = tf.signal.linear_to_mel_weight_matrix(
            self.num_mel_bins, FFT_LENGTH // 2 + 1, self.sample_rate, LOWER_HZ, UPPER_HZ
        ).numpy()

    def call(self, waveforms):
        spectrum = tf.signal.stft(tf.cast(waveforms, tf.float32), FRAME_LENGTH, FRAME_STEP, FFT_LENGTH)
        power = tf.math.real(spectrum) ** 2 + tf.math.imag(spectrum) ** 2
        return tf.math.log(tf.matmul(power, tf.constant(self._mel)) + LOG_OFFSET)

    def compute_output_shape(self, input_shape):
        frames = None if input_shape[-1] is None else 1 + (input_shape[-1] - FRAME_LENGTH) // FRAME_STEP
        return (input_shape[0], frames, self.num_mel_bins)

    def get_config(self):
        return dict(super().get_config(), sample_rate=self.sample_rate, num_mel_bins=self.num_mel_bins)


def waveform_input(input_shape, num_mel_bins=NUM_MEL_BINS):
    """`(inputs, features)`: a raw-waveform input `(samples,)` and its normalized log-mel image
    `(frames, num_mel_bins, 1)` (batch normalization of each band: the statistics are learned)."""
    if len(input_shape) != 1 or input_shape[0] is None or input_shape[0] < FRAME_LENGTH:
        raise ZooError(
            f"Audio models take (samples,) of at least {FRAME_LENGTH} samples (1 s at 16 kHz: (16000,)). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="waveform")
    x = LogMelSpectrogram(num_mel_bins=num_mel_bins, name="log_mel")(inputs)
    x = keras.layers.BatchNormalization(name="mel_norm")(x)
    return inputs, keras.layers.Reshape((*x.shape[1:], 1), name="to_image")(x)
