"""`speech_words`: spoken keywords synthesized with eSpeak NG at first use, 1 s clips at 16 kHz.

Ten keywords of the Speech Commands benchmark (Warden 2018) plus `unknown` (other words) and `silence`
(background noise only): its 12-class keyword-spotting setup. Each clip is one word spoken by an English
accent of eSpeak NG with one of its voice variants (`+m3`, `+croak`, ...), at a random speed and pitch,
placed at a random offset over a faint noise floor (`zoo.audio.synthesis`). The voice variants are split
by the seed: validation and test clips come from **variants never heard in training**. Clips are cached
(`$ZOO_CACHE`, default `~/.cache/zoo`); the same seed and eSpeak NG version give the same clips, and
`config.json` records the version and a digest of the clips.
"""

import hashlib
import importlib.util
import json
import pathlib
import subprocess
import sys

import numpy as np

from zoo.audio import synthesis
from zoo.errors import ZooError
from zoo.files import atomic_path

# Runs `zoo.audio.synthesis` without `zoo/__init__` (which imports TensorFlow): numpy, scipy and eSpeak NG only.
_WORKER = f"""import sys, types
package = types.ModuleType("zoo")
package.__path__ = [{str(pathlib.Path(__file__).parents[1])!r}]
sys.modules["zoo"] = package
from zoo.audio import synthesis
synthesis.main(sys.argv[1:])
"""


def cache_dir():
    from zoo.pretrained.download import cache_dir as zoo_cache  # `$ZOO_CACHE`, as for shipped weights

    return zoo_cache()


def _espeak_version():
    if importlib.util.find_spec("espeakng_loader") is None:
        from zoo.audio.espeak import INSTALL_HINT

        raise ZooError(f"--dataset=speech_words synthesizes its clips with eSpeak NG: {INSTALL_HINT}.")
    from importlib import metadata

    return metadata.version("espeakng-loader")


def load(seed, clips_per_class=None):
    """`(arrays, notes)`: `{split: int16 clips, split_labels, split_voices}` and what config.json records;
    from the cache, or synthesized in a fresh process and cached."""
    counts = dict(synthesis.CLIPS_PER_CLASS, **(clips_per_class or {}))
    key = repr((synthesis.GENERATOR_VERSION, _espeak_version(), seed, sorted(counts.items())))
    path = cache_dir() / "speech_words" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if not path.is_file():
        print(f"Synthesizing speech_words (seed {seed}) into {path} ...", flush=True)
        with atomic_path(path) as tmp:
            command = [sys.executable, "-c", _WORKER, str(seed), str(tmp), json.dumps(counts)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0 or not tmp.is_file():
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise ZooError(f"Synthesizing speech_words failed: {last}")
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files if name != "notes"}
        return arrays, json.loads(str(stored["notes"]))
