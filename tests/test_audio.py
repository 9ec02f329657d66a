"""Keyword spotting from the raw waveform: speech_words, WAV folders, the front end, the app, export, MediaPipe."""

import json

import numpy as np
import pytest

from export import tflite_metadata
from helpers import assert_one_line_error, run, write_wavs
from zoo.audio import synthesis, waveforms
from zoo.errors import ZooError

pytest.importorskip("espeakng_loader")
TINY = dict(train=6, validation=2, test=2)  # clips per class


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("cache")
        patch.setenv("ZOO_CACHE", str(root))
        patch.setattr(synthesis, "CLIPS_PER_CLASS", TINY)
        yield root


@pytest.mark.slow
def test_speech_words_is_reproducible_and_tests_on_unheard_voices(cache, tmp_path, monkeypatch):
    from zoo.datasets import speech_words

    arrays, notes = speech_words.load(0)
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))  # synthesized again, in another fresh process
    again, notes_again = speech_words.load(0)
    assert notes_again["clips_sha256"] == notes["clips_sha256"] and notes["synthesizer"].startswith("eSpeak NG 1.5")
    np.testing.assert_array_equal(again["test"], arrays["test"])
    assert arrays["train"].shape == (6 * 12, 16_000) and arrays["test"].shape == (2 * 12, 16_000)
    heard = set(arrays["train_voices"]) - {synthesis.NO_VOICE}
    assert heard and not heard & set(arrays["test_voices"]) and not heard & set(arrays["validation_voices"])
    assert set(notes["voices"]["test"]) >= set(arrays["test_voices"]) - {synthesis.NO_VOICE}
    silence = arrays["test_labels"] == synthesis.CLASS_NAMES.index("silence")
    loudness = np.abs(arrays["test"].astype(np.float32)).max(axis=1)
    assert loudness[silence].max() < loudness[~silence].min()  # speech stands out of the noise


def test_a_wav_folder_is_resampled_to_one_second_at_16_khz(tmp_path):
    from zoo.datasets.audio import load_audio_dataset

    write_wavs(tmp_path / "words", count=10, rate=8000, seconds=0.5)
    (tmp_path / "words" / "_background_noise_").mkdir()
    waveforms.write_wav(tmp_path / "words" / "_background_noise_" / "hum.wav", np.full(4_000, 0.1))
    splits = load_audio_dataset(f"folder:{tmp_path / 'words'}", seed=0)
    assert splits.class_names == ["high", "low"] and splits.input_shape == (16_000,)
    clip, _ = next(iter(splits.train))
    assert clip.shape == (16_000,) and np.all(clip[8_000:] == 0) and np.abs(clip[:8_000]).max() > 0.3


@pytest.mark.parametrize("content", [b"", b"RIFF....WAVEfmt nonsense"])
def test_an_empty_or_unreadable_wav_is_one_error_line_naming_it(tmp_path, content):
    from zoo_apps import audio_classify

    write_wavs(tmp_path / "words", count=10)
    (tmp_path / "words" / "low" / "broken.wav").write_bytes(content)
    result = run(audio_classify.main, f"--dataset=folder:{tmp_path / 'words'}", "--epochs=1", check=False)
    assert_one_line_error(result, "broken.wav")


def test_the_front_end_gives_49_frames_and_hears_pitch():
    import keras

    from zoo.audio.frontend import LogMelSpectrogram

    time = np.arange(16_000) / 16_000
    tones = np.stack([0.5 * np.sin(2 * np.pi * hz * time) for hz in (300, 1000, 4000)]).astype(np.float32)
    mel = np.asarray(LogMelSpectrogram()(tones))
    assert mel.shape == (3, 49, 40)
    peaks = mel.mean(axis=1).argmax(axis=1)
    assert peaks[0] < peaks[1] < peaks[2]
    layer = keras.layers.deserialize(keras.layers.serialize(LogMelSpectrogram(num_coefficients=10)))
    assert np.asarray(layer(tones)).shape == (3, 49, 10)


def test_augmentation_shifts_and_adds_noise_reproducibly():
    import tensorflow as tf

    from zoo.tasks.audio_input import augment_waveforms

    clips = np.zeros((32, 16_000), np.float32)
    clips[:, 8_000] = 0.9  # a click in the middle
    clips = tf.constant(clips)
    first = augment_waveforms(clips, tf.constant([1, 2], tf.int64)).numpy()
    np.testing.assert_array_equal(first, augment_waveforms(clips, tf.constant([1, 2], tf.int64)).numpy())
    assert not np.array_equal(first, augment_waveforms(clips, tf.constant([3, 4], tf.int64)).numpy())
    assert first.shape == (32, 16_000) and np.abs(first).max() <= 1
    peaks = np.abs(first).argmax(axis=1)
    assert len(set(peaks.tolist())) > 1 and np.all(np.abs(peaks - 8_000) <= 1_600)
    assert 16 < np.sum(np.median(np.abs(first), axis=1) > 1e-5) < 32  # noise on most clips, not on all


@pytest.fixture(scope="module")
def audio_run(cache, tmp_path_factory):
    """ds_cnn trained 2 epochs on tiny speech_words and exported float32 and int8."""
    from zoo_apps import audio_classify

    model_dir = tmp_path_factory.mktemp("run") / "ds_cnn"
    args = ("--epochs=2", "--batch_size=16", f"--model_dir={model_dir}", "--export=float32,int8")
    return model_dir, run(audio_classify.main, *args)


@pytest.mark.slow
def test_a_run_records_the_synthesizer_and_per_voice_accuracy(audio_run):
    model_dir, _ = audio_run
    config = json.loads((model_dir / "config.json").read_text())
    assert config["run"]["task"] == "audio_classification" and config["input_shape"] == [16_000]
    assert config["data"]["synthesizer"].startswith("eSpeak NG") and len(config["data"]["clips_sha256"]) == 64
    test = json.loads((model_dir / "metrics.json").read_text())["test"]
    assert set(test["per_group"]) - {synthesis.NO_VOICE} <= set(config["data"]["voices"]["test"])
    assert sum(row["examples"] for row in test["per_group"].values()) == test["num_examples"] == 24
    assert np.sum(test["confusion_matrix"]) == 24 and len(test["confusion_matrix"]) == 12
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "| test group (e.g. voice) |" in card and "spectrograms.png" in card
    assert (model_dir / "spectrograms.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["float32", "int8"])
def test_the_files_take_waveforms_and_mediapipe_answers_as_predictor(audio_run, flavour, tmp_path):
    from export import Predictor, mediapipe_tasks
    from export.predict import cli
    from zoo.datasets import speech_words

    path = audio_run[0] / "export" / f"model_{flavour}.tflite"
    metadata = tflite_metadata.read_metadata(path.read_bytes())
    (waveform,) = metadata["inputs"]
    assert (waveform.content, waveform.sample_rate, waveform.channels) == ("audio", 16_000, 1)
    predictor = Predictor(path)
    assert predictor.labels == list(synthesis.CLASS_NAMES)
    clips = waveforms.to_float(speech_words.load(0)[0]["test"])
    answers = [answer[0][0] for answer in predictor.predict(clips, top_k=1)]
    if pytest.importorskip("mediapipe"):
        assert mediapipe_tasks.top1(path, clips) == answers
    waveforms.write_wav(tmp_path / "clip.wav", clips[0])
    printed = run(cli, f"--model={path}", str(tmp_path / "clip.wav")).stdout
    assert printed.startswith(f"{tmp_path / 'clip.wav'}: {answers[0]} ") and printed.count(",") == 2
    with pytest.raises(ZooError, match=r"in \[-1, 1\]"):
        predictor.predict(clips[:1] * 40_000)
    with pytest.raises(ZooError, match="16000 samples"):
        predictor.predict(clips[:1, :8_000])
