"""Waveforms: reading WAV files, resampling and fitting clips to a fixed length (numpy, float32 in [-1, 1])."""

import math
import pathlib
import struct
import wave

import numpy as np

from zoo.errors import ZooError

SAMPLE_RATE = 16_000
CLIP_SAMPLES = SAMPLE_RATE  # 1 s


def resample(samples, rate, target=SAMPLE_RATE):
    """`samples` at `rate` Hz resampled to `target` Hz (polyphase filtering, scipy's `resample_poly`)."""
    if rate == target:
        return np.asarray(samples, np.float32)
    from scipy.signal import resample_poly

    common = math.gcd(int(rate), int(target))
    return resample_poly(np.asarray(samples, np.float64), target // common, rate // common).astype(np.float32)


def to_float(samples):
    """Integer PCM (8-bit unsigned, 16/32-bit signed) or float samples as float32 in [-1, 1]."""
    samples = np.asarray(samples)
    if samples.dtype == np.uint8:
        return (samples.astype(np.float32) - 128) / 128
    if samples.dtype.kind == "i":
        return samples.astype(np.float32) / float(2 ** (8 * samples.dtype.itemsize - 1))
    return samples.astype(np.float32)


def fit(samples, length=CLIP_SAMPLES, offset=None):
    """`samples` placed in a clip of `length`: zero-padded after them (or at `offset`), or their middle cut out."""
    samples = np.asarray(samples, np.float32)
    if len(samples) >= length:
        start = (len(samples) - length) // 2
        return samples[start : start + length]
    clip = np.zeros(length, np.float32)
    offset = 0 if offset is None else min(int(offset), length - len(samples))
    clip[offset : offset + len(samples)] = samples
    return clip


def read_wav(path, length=CLIP_SAMPLES):
    """The WAV file at `path` as float32 mono samples at 16 kHz, fitted to `length`; a `ZooError` naming the
    file if it cannot be read, holds no samples, or is not a WAV file (channels are averaged)."""
    path = pathlib.Path(path)
    if path.is_dir() or not path.is_file():
        raise ZooError(f"{str(path)!r} is {'a folder' if path.is_dir() else 'missing'}: pass WAV files (.wav).")
    try:
        from scipy.io import wavfile

        rate, samples = wavfile.read(path)
    except (ValueError, OSError, EOFError, struct.error, wave.Error) as error:
        raise ZooError(f"{str(path)!r} is not a readable WAV file ({error}): pass PCM or float WAV files.") from None
    samples = to_float(samples)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise ZooError(f"{str(path)!r} holds no samples: remove it or record it again.")
    if not np.isfinite(samples).all():
        raise ZooError(f"{str(path)!r} holds NaN or infinite samples: remove it or record it again.")
    return fit(resample(samples, int(rate)), length)


def write_wav(path, samples, rate=SAMPLE_RATE):
    """Writes float samples in [-1, 1] as a 16-bit PCM mono WAV file."""
    from scipy.io import wavfile

    wavfile.write(path, rate, np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16))
