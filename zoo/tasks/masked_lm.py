"""Masked-language-model pretraining: raw text in, a keras-hub BERT preset out.

Devlin et al. 2019, "BERT": predict the 15% of tokens chosen and hidden in each
text. Pretraining on the very text a classifier is later fine-tuned on already
helps (Krishna et al. 2023, "Downstream Datasets Make Surprisingly Good
Pretraining Corpora"). The product of a run is `<model_dir>/preset`, which
`python -m zoo_apps.text_classify --model=bert --preset=<model_dir>/preset` fine-tunes.
"""

import dataclasses
import math
import pathlib

import keras
import numpy as np
import tensorflow as tf

from zoo import datasets
from zoo.datasets import load_text_dataset
from zoo.datasets.splits import Splits, digest_of
from zoo.errors import ZooError
from zoo.files import atomic_path
from zoo.tasks.base import COMMON_RECIPE_KEYS, Dataset, Task
from zoo.text import bert

PRESET = "preset"  # the run's keras-hub preset folder
VALIDATION_FRACTION = 0.1  # of a file:PATH corpus's lines


def text_only(text, label):
    return text


def _file_corpus(path, seed):
    """`file:PATH`: one text per line (blank lines skipped), 90% to train on and 10% to validate, by `seed`."""
    file = pathlib.Path(path)
    try:
        lines = [line.strip() for line in file.read_text(encoding="utf-8").split("\n")]
    except UnicodeDecodeError:
        raise ZooError(f"{str(file)!r} is not UTF-8 text: re-encode it, e.g. `iconv -f latin1 -t utf-8`.") from None
    except OSError as error:
        raise ZooError(
            f"Cannot read corpus file {str(file)!r} ({error.strerror}): pass file:PATH of a text file."
        ) from None
    texts = np.array([line for line in lines if line], dtype=object)
    if len(texts) < 2:
        raise ZooError(
            f"{str(file)!r} holds {len(texts)} line(s) of text: pretraining needs at least 2 (one per text)."
        )
    order = np.random.default_rng(seed).permutation(len(texts))
    count = max(1, round(VALIDATION_FRACTION * len(texts)))
    parts = [texts[order[count:]], texts[order[:count]], texts[:0]]
    train, validation, test = (
        tf.data.Dataset.from_tensor_slices((part, np.zeros(len(part), np.int64))) for part in parts
    )
    return Splits(
        name=f"file:{path}",
        train=train,
        validation=validation,
        test=test,
        class_names=[],
        input_shape=(),
        digest=digest_of([[text.encode("utf-8") for text in part] for part in parts]),
    )


class MaskedLanguageModeling(Task):
    name = "masked_language_modeling"
    app = "pretrain_text"
    default_model = "bert_mlm"
    default_dataset = "mr"
    catalog = (
        Dataset(
            "mr",
            "the training split (7,647 sentences) of the embedded MR movie-review sentences, split 80/10/10 "
            "with the run's seed as text_classify splits it; its validation split measures the masked tokens "
            "and its test split is never read, so a classifier fine-tuned with the same --seed is tested on "
            "sentences pretraining never saw",
            "Pretrained on short English movie-review sentences only: its vocabulary and statistics are "
            "those of that domain.",
        ),
        Dataset(
            "file:PATH",
            "one UTF-8 text file, one text per line (blank lines skipped): 90% of the lines to train on, "
            "10% to validate, by the run's seed",
        ),
        Dataset("lines:DIR", "text_classify's line files, labels ignored; split and read as mr is"),
        Dataset("folder:DIR", "text_classify's folders of .txt files, labels ignored; split and read as mr is"),
        Dataset("NAME", "a tfds text-classification dataset prepared offline in --data_dir; read as mr is"),
    )
    input_description = "raw UTF-8 strings; tokenization and masking are inside the model"
    output_description = (
        "logits over the WordPiece vocabulary at each masked position; what a run is for is its `preset/` "
        "folder (encoder and tokenizer), which `python -m zoo_apps.text_classify --model=bert --preset=DIR` "
        "fine-tunes"
    )
    history_metrics = ("loss", "accuracy")
    recipe_keys = COMMON_RECIPE_KEYS  # no augmentation, no label smoothing: the apps define no flag for them

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        """The corpus as `Splits` of `(text, 0)`, without class names: train, validation and (unread) test."""
        if dataset.startswith("file:"):
            return _file_corpus(dataset.removeprefix("file:"), seed)
        if pathlib.Path(dataset).is_file():
            raise ZooError(f"{dataset!r} is a file: pass --dataset=file:{dataset} (one text per line).")
        try:
            splits = load_text_dataset(dataset, seed=seed, data_dir=data_dir)
        except ValueError as error:  # tfds refuses some names (e.g. with a dot) with a bare ValueError
            if ":" in dataset:
                raise
            first = str(error).strip().splitlines()[0]
            raise ZooError(f"{first} Pretraining also takes mr, and file:PATH (one text per line).") from None
        return dataclasses.replace(splits, class_names=[], task=self.name)

    def check(self, model_name, options, recipe):
        super().check(model_name, options, recipe)
        bert.check_size(options.get("preset", "bert_tiny"))

    def build_model(self, model_name, splits, options, pretrained):
        if pretrained:
            raise ZooError(
                "Masked-LM pretraining starts from random weights: drop --pretrained (to go on from a "
                "finished run, re-run its command with more --epochs in a new --model_dir)."
            )
        return super().build_model(model_name, splits, options, pretrained)

    def compile(self, model, recipe, new_optimizer):
        """Cross-entropy and accuracy over the masked tokens only (their weights are 1, padding's 0), XLA-compiled.

        keras-hub tokenizes and masks in the tf.data pipeline, outside the train step, which
        XLA compiles about 2.5 times faster on CPU. Keras declines `jit_compile=True` here (the
        preprocessor's string layers, and op determinism, which the apps turn on), so it is set
        behind the check: on CPU the compiled step is deterministic too.
        """
        model.compile(
            optimizer=new_optimizer(),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=False,
        )
        if not tf.config.list_physical_devices("GPU"):
            model._jit_compile = True  # noqa: SLF001 (Keras has no public way past its check)

    def training_pipelines(self, splits, recipe, seed):
        """Batches of raw texts: the model's preprocessor tokenizes and masks them, anew every epoch."""
        train = datasets.batched(splits.train.map(text_only), recipe["batch_size"], shuffle_seed=seed)
        return train, datasets.batched(splits.validation.map(text_only), recipe["batch_size"])

    def evaluate(self, model, splits):
        """Masked-token loss and accuracy on the validation split (the test split is never read)."""
        results = model.evaluate(splits.validation.map(text_only).batch(256), return_dict=True, verbose=0)
        metrics = dict(
            validation=dict(
                masked_token_loss=float(results["loss"]),
                masked_token_accuracy=float(results["accuracy"]),
                masked_token_perplexity=float(math.exp(min(results["loss"], 50.0))),
                num_texts=int(splits.validation.cardinality()),
            ),
            vocabulary_size=int(model.backbone.vocabulary_size),
            sequence_length=int(model.preprocessor.sequence_length),
            mask_rate=float(model.preprocessor.mask_selection_rate),
            train_texts=int(splits.train.cardinality()),
            preset=PRESET,
        )
        return metrics, dict(model=model)

    def write_plots(self, folder, outputs):
        """Writes the run's product, `preset/` (backbone and tokenizer, `save_to_preset`), atomically; no plots."""
        model = outputs["model"]
        with atomic_path(folder.file(PRESET)) as tmp:
            model.backbone.save_to_preset(str(tmp))
            model.preprocessor.tokenizer.save_to_preset(str(tmp))
        return []

    def headline(self, metrics):
        validation = metrics["validation"]
        return (
            f"validation masked-token accuracy {validation['masked_token_accuracy']:.4f}, loss "
            f"{validation['masked_token_loss']:.4f}; {metrics['vocabulary_size']:,} WordPiece tokens; "
            f"fine-tune {PRESET}/ with text_classify --model=bert --preset=<model_dir>/{PRESET} --pooling=mean"
        )

    def card_metrics(self, metrics):
        validation = metrics["validation"]
        return [
            f"On the validation split ({validation['num_texts']:,} texts, masked anew at random as in training):",
            "",
            f"- masked-token accuracy **{validation['masked_token_accuracy']:.4f}**",
            f"- masked-token cross-entropy {validation['masked_token_loss']:.4f} "
            f"(perplexity {validation['masked_token_perplexity']:.1f})",
            f"- vocabulary: {metrics['vocabulary_size']:,} WordPiece tokens learned from the "
            f"{metrics['train_texts']:,} training texts; {metrics['sequence_length']} tokens per text; "
            f"{100 * metrics['mask_rate']:.0f}% of the tokens masked",
        ]

    def card_limitations(self, config, metrics):
        run = config["run"]
        lines = [
            "- It predicts hidden tokens, nothing else: fine-tune its `preset/` on a labelled task "
            f"(`python -m zoo_apps.text_classify --model=bert --preset=<model_dir>/{PRESET}`) before using it.",
            f"- It takes at most {metrics['sequence_length']} tokens per text, also once fine-tuned, and knows "
            "only the WordPiece tokens of its corpus; its pooler (the [CLS] dense layer) is left untrained, "
            "since there is no next-sentence objective: fine-tune it with --pooling=mean (the tokens' mean).",
        ]
        if not run["dataset"].startswith("file:"):
            lines.append(
                f"- Fine-tune on `{run['dataset']}` with the same --seed ({run['seed']}): with another seed "
                "the classifier's test split holds sentences this pretraining saw."
            )
        entry = self.dataset_entry(run["dataset"])
        return lines + ([f"- {entry.limitation}"] if entry and entry.limitation else [])

    def intended_use(self, config):
        return (
            f"Pretraining a BERT encoder on the text of `{config['run']['dataset']}`, to fine-tune it on a "
            "labelled task with `python -m zoo_apps.text_classify --model=bert --preset=<model_dir>/preset`."
        )

    def export_data(self, config, model, data_dir=None):
        raise ZooError(
            f"A {config['run']['model']} run is not exported: fine-tune its {PRESET}/ with "
            f"`python -m zoo_apps.text_classify --model=bert --preset=<model_dir>/{PRESET} --export=all`, "
            "and ship that classifier."
        )
