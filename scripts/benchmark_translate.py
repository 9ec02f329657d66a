"""English -> Chinese translation on the embedded Tatoeba pairs (seed 0): test BLEU and chrF of each model
beside the retrieval baseline the same run scores (the Chinese of the nearest English training sentence by
TF-IDF cosine), with 95% bootstrap intervals and the paired interval of model - baseline.

Targets: `transformer_seq2seq` above the baseline on BLEU and chrF; the default command
(`python -m zoo_apps.translate`) under 20 minutes on 2 CPU cores. Each command runs as a fresh process
(start-up and imports included); CPU time is printed beside the wall time, and the load average before and
after, as both vary on a shared machine. Needs `pip install 'sacrebleu>=2.6'`.

    python scripts/benchmark_translate.py                         # the default transformer_seq2seq
    python scripts/benchmark_translate.py --models=transformer_seq2seq,gru_attention --keep=runs/bench
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from absl import app, flags
from commands import timed

flags.DEFINE_string("keep", None, "Keep the runs in this folder (default: a temporary one).")
flags.DEFINE_list("models", ["transformer_seq2seq"], "Models to train and score.")
flags.DEFINE_list("extra", [], "More flags for every run, e.g. --extra=--num_beams=4.")
FLAGS = flags.FLAGS

TARGET_SECONDS = 1200


def cell(values, name):
    low, high = values[f"{name}_interval"]
    return f"{values[name]:.2f} (95% {low:.2f} to {high:.2f})"


def _met(condition):
    return "met" if condition else "NOT met"


def measure(model, folder):
    model_dir = folder / model
    load = os.getloadavg()[0]
    command = [sys.executable, "-m", "zoo_apps.translate", f"--model={model}", f"--model_dir={model_dir}"]
    wall, cpu = timed(command + FLAGS.extra)
    metrics = json.loads((model_dir / "metrics.json").read_text())
    test, base, difference = metrics["test"], metrics["baseline"], metrics["difference"]
    print(
        f"\n{model} on tatoeba_en_zh, seed 0, {test['sentences']:,} test sentences ({test['pairs']:,} references), "
        f"{metrics['decoding']} decoding, {metrics['num_parameters']:,} parameters:"
    )
    print(f"  model     BLEU {cell(test, 'bleu')}, chrF {cell(test, 'chrf')}")
    print(f"  baseline  BLEU {cell(base, 'bleu')}, chrF {cell(base, 'chrf')}  ({base['name']})")
    print(f"  model - baseline (paired bootstrap): BLEU {cell(difference, 'bleu')}, chrF {cell(difference, 'chrf')}")
    beats = all(difference[f"{name}_interval"][0] > 0 for name in ("bleu", "chrf"))
    print(f"  above the baseline on both, intervals excluding 0: {_met(beats)}")
    print(
        f"  command: {wall:.0f} s wall, {cpu:.0f} s CPU on {os.cpu_count()} cores; training "
        f"{metrics['training_seconds']:.0f} s, translating the test split {metrics['translation_seconds']:.0f} s; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after (target < {TARGET_SECONDS} s: "
        f"{_met(wall < TARGET_SECONDS)})"
    )


def main(argv):
    del argv
    if FLAGS.keep:
        folder = Path(FLAGS.keep)
        folder.mkdir(parents=True, exist_ok=True)
        for model in FLAGS.models:
            measure(model, folder)
        return
    with tempfile.TemporaryDirectory() as folder:
        for model in FLAGS.models:
            measure(model, Path(folder))


if __name__ == "__main__":
    app.run(main)
