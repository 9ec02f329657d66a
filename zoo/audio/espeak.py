"""eSpeak NG speech synthesis through the library bundled in the `espeakng-loader` wheel (ctypes).

`pip install espeakng-loader==0.2.4` (zoo's `audio` extra) brings libespeak-ng 1.52 and its voice data
(English dictionary, accents and the ~100 voice variants of `voices/!v`), so no system package is needed.
The library keeps state from one utterance to the next (pitch flutter, buffers), and the variants
that add breath noise differ from run to run: `zoo.audio.synthesis` leaves those out and synthesizes
a dataset in one fresh process, in an order fixed by the seed, which makes it reproducible.
"""

import ctypes
import functools
import pathlib

import numpy as np

from zoo.errors import ZooError

# Variants whose breath noise differs between runs of the same utterance (measured), and names with spaces.
UNSTABLE_VARIANTS = frozenset(
    ("Alicia", "Demonic", "f2", "f3", "f5", "sandro", "victor", "whisper", "whisperf", "Mr serious")
)
INSTALL_HINT = "pip install espeakng-loader==0.2.4 (zoo's audio extra: pip install -e '.[audio]')"
_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT.AUDIO_OUTPUT_SYNCHRONOUS
_RATE, _PITCH = 1, 3  # espeak_PARAMETER
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class Espeak:
    """One initialized libespeak-ng: `synthesize(text, voice, rate, pitch)` -> int16 samples at `sample_rate`."""

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise ZooError(f"Synthesizing speech needs eSpeak NG: {INSTALL_HINT}.") from None
        self._library = ctypes.CDLL(espeakng_loader.get_library_path())
        self.data_path = pathlib.Path(espeakng_loader.get_data_path())
        self.sample_rate = self._library.espeak_Initialize(_SYNCHRONOUS, 0, str(self.data_path).encode(), 0)
        if self.sample_rate <= 0:
            raise ZooError(f"eSpeak NG did not start (data in {self.data_path}): reinstall it, {INSTALL_HINT}.")
        self._library.espeak_Info.restype = ctypes.c_char_p
        self.version = self._library.espeak_Info(None).decode()
        self._chunks = []
        self._callback = _CALLBACK(self._collect)  # kept alive as long as the library may call it
        self._library.espeak_SetSynthCallback(self._callback)
        self._libc = ctypes.CDLL(None)

    def _collect(self, samples, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, (count,)).copy())
        return 0

    def variants(self):
        """The names of the voice variants (`+name` after a language) that synthesize reproducibly, sorted."""
        names = (path.name for path in (self.data_path / "voices" / "!v").iterdir() if path.is_file())
        return sorted(name for name in names if name not in UNSTABLE_VARIANTS)

    def synthesize(self, text, voice, rate=175, pitch=50):
        """int16 samples of `text` spoken by `voice` (e.g. "en-029+m3") at `rate` words a minute and `pitch` 0-99."""
        if self._library.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ZooError(f"eSpeak NG has no voice {voice!r}: use a language such as en-US, with +variant.")
        self._library.espeak_SetParameter(_RATE, int(rate), 0)
        self._library.espeak_SetParameter(_PITCH, int(pitch), 0)
        self._libc.srand(0)  # klatt voices' noise
        self._chunks.clear()
        data = text.encode() + b"\0"
        self._library.espeak_Synth(data, len(data), 0, 0, 0, 0, None, None)
        self._library.espeak_Synchronize()
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


@functools.cache
def espeak():
    """The process's `Espeak` (libespeak-ng keeps global state: one per process)."""
    return Espeak()
