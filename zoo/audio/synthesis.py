"""Synthesizing the `speech_words` clips with eSpeak NG, in a process of their own.

    python -m zoo.audio.synthesis SEED OUT.npz [COUNTS_JSON]

`zoo.datasets.speech_words` runs this in a fresh process: libespeak-ng keeps state from one utterance to
the next, so the same clips come out only from a fresh library fed the same utterances in the same order.
"""

import hashlib
import json
import sys

import numpy as np

from zoo.audio import waveforms

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN, SILENCE = "unknown", "silence"
CLASS_NAMES = (*KEYWORDS, UNKNOWN, SILENCE)
UNKNOWN_WORDS = (
    *("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow", "learn", "follow"),
    *("forward", "backward", "visual", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight"),
)
ACCENTS = ("en", "en-US", "en-029", "en-GB-scotland", "en-GB-x-gbclan", "en-GB-x-gbcwmd", "en-GB-x-rp", "en-US-nyc")
CLIPS_PER_CLASS = dict(train=250, validation=30, test=100)
HELD_OUT_VARIANTS = dict(validation=10, test=16)  # of eSpeak NG's ~100 variants; the rest are for training
RATES, PITCHES = (120, 230), (15, 85)  # words a minute; eSpeak's pitch 0-99
NO_VOICE = "(noise)"  # the voice of a silence clip
GENERATOR_VERSION = 1  # bump when the recipe below changes: the cache key holds it


def noise(rng, length):
    """Background noise of a random colour (white, pink or brown), unit RMS."""
    colour = rng.integers(3)
    white = rng.standard_normal(length)
    if colour == 1:  # pink: 1/f power
        spectrum = np.fft.rfft(white)
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        white = np.fft.irfft(spectrum, length)
    elif colour == 2:  # brown: integrated white noise
        white = np.cumsum(white)
        white -= np.linspace(white[0], white[-1], length)
    return (white / (np.sqrt(np.mean(white**2)) + 1e-12)).astype(np.float32)


def split_variants(variants, seed):
    """`{split: voice variants}`: held-out variants for validation and test, drawn with `seed`."""
    order = list(np.random.default_rng(seed).permutation(variants))
    test = order[: HELD_OUT_VARIANTS["test"]]
    validation = order[len(test) : len(test) + HELD_OUT_VARIANTS["validation"]]
    return dict(train=sorted(order[len(test) + len(validation) :]), validation=sorted(validation), test=sorted(test))


def _speech(engine, rng, word, variants):
    """`(samples, voice)`: `word` spoken by a random accent and variant, at 16 kHz, silence trimmed."""
    voice = f"{rng.choice(ACCENTS)}+{rng.choice(variants)}"
    samples = engine.synthesize(word, voice, rate=rng.integers(*RATES), pitch=rng.integers(*PITCHES))
    samples = waveforms.resample(waveforms.to_float(samples), engine.sample_rate)
    loud = np.flatnonzero(np.abs(samples) > 0.02 * (np.abs(samples).max() + 1e-9))
    samples = samples[loud[0] : loud[-1] + 1] if len(loud) else samples
    return samples / (np.abs(samples).max() + 1e-9), voice


def make_clip(engine, rng, label, variants):
    """`(clip, voice)`: one 1 s clip of class `label` over a noise floor."""
    length = waveforms.CLIP_SAMPLES
    floor = noise(rng, length) * 10 ** rng.uniform(-4, -2.3)
    if label == SILENCE:
        return np.clip(floor * 10 ** rng.uniform(0, 1.5), -1, 1), NO_VOICE
    word = rng.choice(UNKNOWN_WORDS) if label == UNKNOWN else label
    speech, voice = _speech(engine, rng, word, variants)
    offset = rng.integers(0, max(length - len(speech), 0) + 1)
    clip = waveforms.fit(speech * rng.uniform(0.2, 0.9), length, offset)
    return np.clip(clip + floor, -1, 1), voice.split("+")[1]


def synthesize(seed, clips_per_class=None):
    """`(arrays, notes)`: `{split: int16 clips}`, `{split_labels, split_voices}` and what config.json records."""
    from zoo.audio.espeak import espeak

    engine, counts = espeak(), dict(CLIPS_PER_CLASS, **(clips_per_class or {}))
    variants = split_variants(engine.variants(), seed)
    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    arrays = {}
    for split, count in counts.items():
        clips, labels, voices = [], [], []
        for index in range(count * len(CLASS_NAMES)):
            label = index % len(CLASS_NAMES)
            clip, voice = make_clip(engine, rng, CLASS_NAMES[label], variants[split])
            clips.append(np.round(clip * 32767).astype(np.int16))
            labels.append(label)
            voices.append(voice)
        arrays.update({split: np.stack(clips), f"{split}_labels": np.array(labels), f"{split}_voices": voices})
    digest = hashlib.sha256(b"".join(arrays[split].tobytes() for split in counts)).hexdigest()
    notes = dict(
        synthesizer=f"eSpeak NG {engine.version}",
        clips_sha256=digest,
        voices={split: [str(name) for name in variants[split]] for split in ("validation", "test")},
        clips_per_class=counts,
    )
    return arrays, notes


def main(argv):
    seed, path = int(argv[0]), argv[1]
    arrays, notes = synthesize(seed, json.loads(argv[2]) if len(argv) > 2 else None)
    with open(path, "wb") as file:
        np.savez(file, notes=json.dumps(notes), **{name: np.asarray(value) for name, value in arrays.items()})


if __name__ == "__main__":
    main(sys.argv[1:])
