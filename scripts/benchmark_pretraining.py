"""Does masked-LM pretraining on the task's own sentences help? bert_tiny on MR, fine-tuned from its preset vs random.

Pretrains with `python -m zoo_apps.pretrain_text` on the training split (Krishna et al.
2023, "Downstream Datasets Make Surprisingly Good Pretraining Corpora"), then fine-tunes
`python -m zoo_apps.text_classify --model=bert` with the same recipe, seed and pooling
(each of --poolings: `mean` of the token outputs, or [CLS]'s `cls`) from:

- `pretrained`: the run's `preset/` (its WordPiece vocabulary and trained encoder);
- `random`: `--preset=bert_tiny` from random weights (whole-word vocabulary), zoo's default;
- `random_wordpiece` (with --wordpiece_ablation): the same WordPiece vocabulary, random encoder,
  which tells the tokenizer's share of the gain from the encoder's.

Each step is a command timed as a whole (wall and CPU seconds: the machine may be
shared); a finished run is not trained again, so a re-run only prints the table:

    python scripts/benchmark_pretraining.py                       # --poolings=mean,cls
    python scripts/benchmark_pretraining.py --pretrain_epochs=5 --wordpiece_ablation --poolings=mean
"""

import json
import pathlib
import resource
import subprocess
import sys
import time

import keras
import keras_hub
import numpy as np
from absl import app, flags

from zoo import evaluation
from zoo.datasets import load_text_dataset
from zoo.tasks.classification import paired_difference_interval

flags.DEFINE_string("dataset", "mr", "A labelled text dataset: pretraining reads its training split only.")
flags.DEFINE_integer("seed", 0, "Seed of the split, shared by pretraining and fine-tuning.")
flags.DEFINE_integer("pretrain_epochs", None, "Pretraining epochs; default bert_mlm's recipe.")
flags.DEFINE_list("poolings", ["mean", "cls"], "The classifier's poolings to compare (bert's pooling option).")
flags.DEFINE_boolean("wordpiece_ablation", False, "Also fine-tune a random encoder with the pretraining's vocabulary.")
flags.DEFINE_string("runs_dir", "runs/benchmark_pretraining", "Where the runs go.")
FLAGS = flags.FLAGS


def timed(args, model_dir):
    """Runs `python -m <args> --model_dir=...` (quietly; its log beside the run); returns wall and CPU seconds."""
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    command = [sys.executable, "-m", *args, f"--dataset={FLAGS.dataset}", f"--seed={FLAGS.seed}"]
    with open(model_dir.with_suffix(".log"), "w") as log:
        subprocess.run([*command, f"--model_dir={model_dir}"], check=True, stdout=log, stderr=subprocess.STDOUT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return dict(wall_seconds=round(time.perf_counter() - start, 1), cpu_seconds=round(cpu, 1))


def random_wordpiece_preset(preset, destination):
    """A preset with `preset`'s tokenizer and config but a freshly initialized encoder."""
    if not destination.is_dir():
        keras.utils.set_random_seed(FLAGS.seed)
        backbone = keras_hub.models.BertBackbone.from_preset(str(preset))
        keras_hub.models.BertBackbone.from_config(backbone.get_config()).save_to_preset(str(destination))
        keras_hub.models.BertTokenizer.from_preset(str(preset)).save_to_preset(str(destination))
    return destination


def test_right(model_dir):
    """Per-example correctness of a finished classifier run on the test split."""
    model = keras.saving.load_model(model_dir / "model.keras")
    splits = load_text_dataset(FLAGS.dataset, seed=FLAGS.seed)
    texts, labels = zip(*splits.test.batch(256).as_numpy_iterator())
    logits = np.concatenate([np.asarray(model(batch, training=False)) for batch in texts])
    return logits.argmax(1) == np.concatenate(labels)


def row(name, model_dir, timing, right):
    metrics = json.loads((model_dir / "metrics.json").read_text())
    accuracy = float(np.mean(right))
    low, high = evaluation.wilson_interval(accuracy, len(right))
    return (
        f"| {name} | {accuracy:.4f} ({low:.4f}-{high:.4f}) | {metrics['validation_accuracy']:.4f} | "
        f"{metrics['epochs_run']} | {metrics['training_seconds']} | "
        f"{timing['wall_seconds']} / {timing['cpu_seconds']} |"
    )


def main(argv):
    del argv
    runs = pathlib.Path(FLAGS.runs_dir)
    epochs = [f"--epochs={FLAGS.pretrain_epochs}"] if FLAGS.pretrain_epochs else []
    pretraining = runs / "pretrain"
    timing = timed(["zoo_apps.pretrain_text", *epochs], pretraining)
    metrics = json.loads((pretraining / "metrics.json").read_text())
    print(
        f"pretraining: {metrics['epochs_run']} epochs, {metrics['training_seconds']} s of training "
        f"({timing['wall_seconds']} s wall, {timing['cpu_seconds']} s CPU for the command); "
        f"{metrics['vocabulary_size']} WordPiece tokens; validation {json.dumps(metrics['validation'])}"
    )
    presets = dict(pretrained=pretraining / "preset", random="bert_tiny")
    if FLAGS.wordpiece_ablation:
        presets["random_wordpiece"] = random_wordpiece_preset(presets["pretrained"], runs / "random_wordpiece_preset")
    print(
        f"\n{FLAGS.dataset}, seed {FLAGS.seed}: test accuracy (95% Wilson interval), validation accuracy, "
        "epochs, training seconds, this command's seconds wall / CPU (a few if it had finished)\n\n"
        "| bert_tiny from, pooling | test | validation | epochs | training s | command s |\n|---|---|---|---|---|---|"
    )
    right = {}
    for pooling in FLAGS.poolings:
        for name, preset in presets.items():
            run = f"{name}_{pooling}"
            args = ["zoo_apps.text_classify", "--model=bert", f"--preset={preset}", f"--pooling={pooling}"]
            timing = timed(args, runs / run)
            right[run] = test_right(runs / run)
            print(row(f"{name}, {pooling}", runs / run, timing, right[run]), flush=True)
    for pooling in FLAGS.poolings:
        for name in presets:
            if name != "pretrained":
                first, second = right[f"pretrained_{pooling}"], right[f"{name}_{pooling}"]
                low, high = paired_difference_interval(first, second)
                print(
                    f"\n{pooling} pooling, pretrained - {name}: {100 * (np.mean(first) - np.mean(second)):+.2f} "
                    f"points (paired 95% interval {100 * low:+.2f} to {100 * high:+.2f})"
                )


if __name__ == "__main__":
    app.run(main)
