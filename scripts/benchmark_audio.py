"""Keyword spotting on speech_words: accuracy on unheard voices, the default command's time, int8 size and MediaPipe.

Synthesizes speech_words into an empty cache and times the default command as a whole
(`python -m zoo_apps.audio_classify`: synthesis, training, evaluation), trains `kws_cnn` on the same
clips, exports both (float32, int8), and in the same process fits a reference on the same split:
scikit-learn's logistic regression on the log-mel spectrogram (the models' own front end). Test
accuracies (clips of voice variants never heard in training) come with 95% Wilson intervals; the best
model is chosen by validation accuracy (also unheard voices). MediaPipe's AudioClassifier runs every
file on every test clip and is compared with `export.Predictor`:

    python scripts/benchmark_audio.py                 # seed 0, about 15 minutes on 2 cores
    python scripts/benchmark_audio.py --models=ds_cnn --seed=1
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
from absl import app, flags

flags.DEFINE_list("models", ["ds_cnn", "kws_cnn"], "Audio models to train; the first is timed as the default command.")
flags.DEFINE_integer("seed", 0, "Seed of the data (voices held out), the split and the training.")
flags.DEFINE_string("runs_dir", "runs/benchmark_audio", "Where the runs and the fresh clip cache go.")
flags.DEFINE_boolean("keep_runs", False, "Reuse finished runs, their clips and their timed commands (times.json).")
FLAGS = flags.FLAGS
TARGETS = dict(accuracy=0.95, default_minutes=10, int8_kb=200)


def command(args, env):
    """Runs `python -m ...` from the repository's top; returns its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", *args], check=True, env=env, cwd=pathlib.Path(__file__).parents[1])
    return time.perf_counter() - start


def interval(accuracy, count):
    from zoo import evaluation

    low, high = evaluation.wilson_interval(accuracy, count)
    return f"{accuracy:.4f} (95% {low:.4f}-{high:.4f}, n={count})"


def reference(seed):
    """Validation and test accuracy of logistic regression on standardized log-mel spectrograms."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from zoo.audio.frontend import LogMelSpectrogram
    from zoo.audio.waveforms import to_float
    from zoo.datasets import speech_words

    arrays, _ = speech_words.load(seed)
    front_end = LogMelSpectrogram()
    features = {
        split: np.concatenate([np.asarray(front_end(to_float(part))) for part in np.array_split(arrays[split], 20)])
        for split in ("train", "validation", "test")
    }
    features = {split: values.reshape(len(values), -1) for split, values in features.items()}
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=500))
    model.fit(features["train"], arrays["train_labels"])
    return {
        split: float(np.mean(model.predict(features[split]) == arrays[f"{split}_labels"]))
        for split in ("validation", "test")
    }, arrays


def mediapipe_agreement(path, clips):
    from export import Predictor, mediapipe_tasks

    ours = [answer[0][0] for answer in Predictor(path).predict(clips, top_k=1)]
    theirs = mediapipe_tasks.top1(path, clips)
    return float(np.mean([a == b for a, b in zip(ours, theirs)]))


def report_model(name, folder, clips):
    metrics = json.loads((folder / "metrics.json").read_text())
    test = metrics["test"]
    voices = {voice: row["accuracy"] for voice, row in test["per_group"].items()}
    worst = min(voices, key=voices.get)
    print(
        f"{name}: test {interval(test['accuracy'], test['num_examples'])}, macro-F1 {test['macro_f1']:.4f}, "
        f"validation {metrics['validation_accuracy']:.4f}; worst test voice {worst} {voices[worst]:.3f}; "
        f"training {metrics.get('training_seconds', float('nan')):.0f} s"
    )
    report = json.loads((folder / "export" / "report.json").read_text())
    for row in report["files"]:
        if row["format"] != "tflite":
            continue
        gate = "passes" if row["gate"]["passed"] else "FAILS " + "; ".join(row["gate"]["reasons"])
        agreement = mediapipe_agreement(folder / "export" / row["file"], clips)
        print(
            f"  {row['file']}: {row['size_bytes'] / 1024:.1f} KB, test {row['accuracy']:.4f}, gate {gate}, "
            f"1 s window {row['latency_ms']['median']:.2f} ms median, MediaPipe top-1 = Predictor's on "
            f"{100 * agreement:.2f}% of {len(clips)} test clips"
        )
    return metrics["validation_accuracy"], test["accuracy"]


def main(argv):
    runs = pathlib.Path(FLAGS.runs_dir)
    cache, times = runs / "cache", runs / "times.json"
    env = dict(os.environ, ZOO_CACHE=str(cache.resolve()))
    seconds = json.loads(times.read_text()) if FLAGS.keep_runs and times.is_file() else {}
    if not FLAGS.keep_runs:
        shutil.rmtree(cache, ignore_errors=True)  # the default command's time includes the synthesis
    for name in FLAGS.models:
        folder = runs / f"{name}_seed{FLAGS.seed}"
        if name not in seconds or not (folder / "metrics.json").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            args = ["zoo_apps.audio_classify", f"--model={name}", f"--seed={FLAGS.seed}", f"--model_dir={folder}"]
            seconds[name] = command(args, env)
            times.write_text(json.dumps(seconds))
        if not (FLAGS.keep_runs and (folder / "export" / "report.json").is_file()):
            command(["export", f"--model_dir={folder}", "--formats=float32,int8"], env)
    os.environ["ZOO_CACHE"] = env["ZOO_CACHE"]
    from zoo.audio.waveforms import to_float

    start = time.perf_counter()
    reference_accuracy, arrays = reference(FLAGS.seed)
    reference_seconds = time.perf_counter() - start
    clips = to_float(arrays["test"])
    print(f"\nspeech_words, seed {FLAGS.seed}: test voices never heard in training ({len(clips)} test clips)")
    first = FLAGS.models[0]
    print(
        f"default command ({first}, synthesis included): {seconds[first] / 60:.2f} min "
        f"(target < {TARGETS['default_minutes']})"
    )
    results = {name: report_model(name, runs / f"{name}_seed{FLAGS.seed}", clips) for name in FLAGS.models}
    print(
        f"reference (logistic regression on log-mel, same split, {reference_seconds:.0f} s): test "
        f"{interval(reference_accuracy['test'], len(clips))}, validation {reference_accuracy['validation']:.4f}"
    )
    best = max(results, key=lambda name: results[name][0])
    print(
        f"best by validation: {best}, test {interval(results[best][1], len(clips))} (target >= {TARGETS['accuracy']})"
    )


if __name__ == "__main__":
    app.run(main)
