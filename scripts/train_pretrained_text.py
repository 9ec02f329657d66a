"""Makes the shipped text entries: `bert_mlm_mr`, a bert_tiny encoder pretrained on the MR training
sentences, and `bert_mr`, the MR classifier fine-tuned from it; rewrites their manifest entries and cards.

    python scripts/train_pretrained_text.py
    python scripts/train_pretrained_text.py --pretrain_epochs=1 --epochs=1 --runs_dir=/tmp/runs  # a quick check

1. `python -m zoo_apps.pretrain_text` (masked-LM, the registered recipe); its encoder
   and vocabulary become `weights/bert_mlm_mr.weights.npz` (float16; `zoo.pretrained.encoders`);
2. `python -m zoo_apps.text_classify --model=bert --preset=bert_mlm_mr --pooling=mean --export=all`,
   fine-tuned from that shipped file, becomes `weights/bert_mr.weights.npz` (float16).

Both write into the package (`zoo/pretrained/`). Finished runs in --runs_dir are reused.
"""

import pathlib
import subprocess
import sys

import keras
import keras_hub
import numpy as np
from absl import flags, logging

import zoo
from zoo.card import write_model_card
from zoo.cli import run_main
from zoo.datasets import load_text_dataset
from zoo.pretrained import encoders, manifest
from zoo.pretrained.weights_file import SUFFIX, save_float16_weights, sha256_of
from zoo.run_folder import RunFolder
from zoo.tasks.classification import predict_logits

ENCODER, CLASSIFIER = "bert_mlm_mr", "bert_mr"
flags.DEFINE_integer("seed", 0, "Seed of both runs (the same split).", lower_bound=0)
flags.DEFINE_integer("pretrain_epochs", None, "Override the pretraining epochs (quick checks only).", lower_bound=1)
flags.DEFINE_integer("epochs", None, "Override the fine-tuning epochs (quick checks only).", lower_bound=1)
flags.DEFINE_string("runs_dir", "runs/pretrained", "Where the two runs go.")
FLAGS = flags.FLAGS


def command(app, *args, epochs=None):
    return ["python", "-m", app, "--dataset=mr", f"--seed={FLAGS.seed}", *args] + (
        [f"--epochs={epochs}"] if epochs else []
    )


def train(args, model_dir):
    logging.info("%s: %s", model_dir.name, " ".join(args))
    subprocess.run([sys.executable, *args[1:], f"--model_dir={model_dir}"], check=True)
    return RunFolder(model_dir).require_finished()


def ship_encoder(entries, args):
    """Pretrains (or reuses the run), writes the encoder file, its entry and its card."""
    folder = train(args, pathlib.Path(FLAGS.runs_dir) / ENCODER)
    preset = str(folder.path / "preset")
    backbone = keras_hub.models.BertBackbone.from_preset(preset, name="backbone")
    vocabulary = keras_hub.models.BertTokenizer.from_preset(preset).get_vocabulary()
    weights_file = manifest.weights_dir() / f"{ENCODER}{SUFFIX}"
    encoders.save_encoder(backbone, vocabulary, weights_file)
    config, metrics = folder.config(), folder.metrics()
    run = config["run"]
    entries[ENCODER] = dict(
        model=run["model"],
        kind=manifest.ENCODER,
        task=run["task"],
        dataset=run["dataset"],
        default=True,
        builder_kwargs=dict(
            preset=run["options"].get("preset", "bert_tiny"), sequence_length=backbone.max_sequence_length
        ),
        usage=f"zoo.create_model('bert', preset='{ENCODER}', pooling='mean'), or text_classify --model=bert "
        f"--preset={ENCODER} --pooling=mean",
        training_command=" ".join(args),
        recipe=run["recipe"],
        seed=run["seed"],
        validation=metrics["validation"],
        vocabulary_size=len(vocabulary),
        training_seconds=metrics["training_seconds"],
        num_parameters=int(backbone.count_params()),
        file=weights_file.name,
        format="compressed npz of float16 arrays keyed by Keras variable path, and the WordPiece vocabulary "
        f"under {encoders.VOCABULARY!r}",
        size_bytes=weights_file.stat().st_size,
        sha256=sha256_of(weights_file),
        url=None,
        versions=config["versions"],
    )
    manifest.write_manifest(entries)
    write_model_card(
        folder.path, manifest.MANIFEST_PATH.with_name("cards") / ENCODER, dict(entries[ENCODER], name=ENCODER)
    )


def ship_classifier(entries, args):
    """Fine-tunes from the shipped encoder (or reuses the run), writes its float16 weights, entry and card."""
    folder = train(args, pathlib.Path(FLAGS.runs_dir) / CLASSIFIER)
    weights_file = manifest.weights_dir() / f"{CLASSIFIER}{SUFFIX}"
    save_float16_weights(keras.saving.load_model(folder.file("model.keras"), compile=False), weights_file)
    entries[CLASSIFIER] = manifest.entry_from_run(folder.path, weights_file, True, " ".join(args))
    manifest.write_manifest(entries)
    shipped = zoo.load_pretrained(CLASSIFIER)  # what users get: the float16 file through the public loader
    logits, labels = predict_logits(shipped, load_text_dataset("mr", seed=FLAGS.seed).test)
    entries[CLASSIFIER]["test_accuracy_float16_weights"] = float(np.mean(logits.argmax(1) == labels))
    manifest.write_manifest(entries)
    write_model_card(
        folder.path, manifest.MANIFEST_PATH.with_name("cards") / CLASSIFIER, dict(entries[CLASSIFIER], name=CLASSIFIER)
    )
    return entries[CLASSIFIER]


def main(argv):
    entries = manifest.read_manifest()
    ship_encoder(entries, command("zoo_apps.pretrain_text", epochs=FLAGS.pretrain_epochs))
    fine_tune = ("--model=bert", f"--preset={ENCODER}", "--pooling=mean", "--export=all")
    entry = ship_classifier(entries, command("zoo_apps.text_classify", *fine_tune, epochs=FLAGS.epochs))
    print(
        f"{CLASSIFIER}: test accuracy {entry['test_accuracy']:.4f} (float16 weights "
        f"{entry['test_accuracy_float16_weights']:.4f}); {ENCODER}: validation masked-token accuracy "
        f"{entries[ENCODER]['validation']['masked_token_accuracy']:.4f}"
    )


if __name__ == "__main__":
    run_main(main)
