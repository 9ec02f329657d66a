"""Audio models (keyword spotting on raw 16 kHz waveforms); importing this module registers them."""

from zoo.audio import keyword_spotting  # noqa: F401
