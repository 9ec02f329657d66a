"""Translation (English -> Chinese): the sentence-pair input side plus the translation head.

The side reads pairs (`zoo.datasets.translation`) and learns the tokenizers from the training split
(WordPiece for English, characters for Chinese); the head trains next-token cross-entropy (padding
weighted 0), decodes the test split with the model's `translate`, and scores it with sacrebleu against
a TF-IDF retrieval baseline (`zoo.tasks.translation_metrics`). Export: a TFLite file with the greedy
decoding loop inside, token ids in and out, the vocabularies in its sidecar (`zoo.tasks.translation_export`).
"""

import time

import keras
import numpy as np

from zoo.datasets.translation import TATOEBA, load_translation_dataset
from zoo.errors import ZooError
from zoo.tasks import translation_export as exporting
from zoo.tasks import translation_metrics as scoring
from zoo.tasks.base import Dataset, ExportData, Head, InputSide, Task
from zoo.text import seq2seq

EXAMPLE_SOURCE = "Where is the station?"


class PairsInput(InputSide):
    """Source-language sentences (str); the model tokenizes them itself."""

    catalog = (
        Dataset(
            TATOEBA,
            "26,099 English-Chinese sentence pairs from Tatoeba (CC-BY 2.0 France; manythings.org's release), "
            "embedded in zoo, split 80/10/10 by English sentence with the run's seed (all translations of one "
            "sentence in one split)",
            "Trained on 21,000 short everyday Tatoeba sentences (median 6 words): long, technical or informal "
            "text, names it never saw, and anything but English fare worse; it learned simplified Chinese only.",
        ),
        Dataset(
            "tsv:FILE",
            "your pairs: one UTF-8 `source<TAB>target` line each (further columns ignored), split 80/10/10 by "
            "source sentence with the run's seed",
        ),
    )
    description = "raw English sentences (str); tokenization is inside the model"

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        return load_translation_dataset(dataset, seed=seed, data_dir=data_dir)

    def check(self, model_name, options, recipe):
        try:
            import sacrebleu  # noqa: F401
        except ImportError:
            raise ZooError("Translation runs are scored with sacrebleu: pip install 'sacrebleu>=2.6'.") from None
        if options.get("num_beams", 1) < 1:
            raise ZooError(f"--num_beams must be 1 (greedy) or more. Received: {options['num_beams']}")

    def adapt(self, model_name, splits, options):
        """The English WordPiece and the Chinese character vocabularies of the training split."""
        train = splits.extras["pairs"]["train"]
        max_tokens = options.get("max_tokens") or seq2seq.MAX_TOKENS
        return dict(
            source_vocabulary=seq2seq.word_piece_vocabulary([source for source, _ in train], max_tokens),
            target_vocabulary=seq2seq.character_vocabulary([target for _, target in train]),
        )

    def predictor_inputs(self, predictor, inputs, **unused):
        return exporting.predictor_inputs(predictor, inputs)

    def file_metadata(self, description, details):
        (detail,) = details
        vocabulary = exporting.vocabulary_file(
            exporting.SOURCE_FILE, description["source_vocabulary"], "English WordPiece pieces"
        )
        tensor = dict(name=detail["name"], description=description.get("input_description", ""))
        return [dict(tensor, associated_files=[vocabulary])], []

    def card_usage_input(self, config):
        return f'["{EXAMPLE_SOURCE}"]'

    def card_limitations(self, config):
        length = config["run"]["options"].get("sequence_length") or seq2seq.SEQUENCE_LENGTH
        return [
            f"- It reads the first {length} WordPiece tokens of a sentence and writes at most {length - 1} "
            "characters; English words outside its vocabulary are split into pieces, or become [UNK] (emoji, "
            "other scripts), and Chinese characters it never saw in training it cannot write."
        ]


class TranslationHead(Head):
    """Next-token logits over the target characters; translations scored by BLEU and chrF."""

    output_name = "ids"  # of the exported files: the decoded character ids
    description = "a Chinese sentence (str) from `model.translate`; the network itself gives next-character logits"
    history_metrics = ("loss", "accuracy")
    report_columns = ("bleu", "chrf", "identical", "bleu_drop")
    agreement_column = "identical"
    latency_runs = exporting.LATENCY_RUNS
    latency_examples = exporting.LATENCY_SENTENCES  # a sentence's time grows with its translation's length

    def num_outputs(self, splits):
        return None  # the builders size their output from the target vocabulary

    def compile(self, model, recipe, new_optimizer):
        model.compile(
            optimizer=new_optimizer(),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )

    def evaluate(self, model, splits, seed=0):
        """Test BLEU and chrF of `model.translate` and of the retrieval baseline, their difference, examples."""
        pairs = splits.extras["pairs"]
        sources, references = scoring.grouped(pairs["test"])
        start = time.perf_counter()
        hypotheses = model.translate(sources)
        seconds = time.perf_counter() - start
        baseline = scoring.nearest_neighbour(pairs["train"], sources)
        scores = scoring.score(hypotheses, references, baseline, seed=seed)
        metrics = dict(
            test=dict(**scores["model"], sentences=len(sources), pairs=len(pairs["test"])),
            baseline=dict(name="TF-IDF nearest training sentence", **scores["baseline"]),
            difference=scores["difference"],
            decoding="greedy" if model.num_beams == 1 else f"beam search, {model.num_beams} beams",
            translation_seconds=round(seconds, 2),
            vocabulary=dict(source=len(model.source_vocabulary), target=len(model.target_vocabulary)),
            examples=scoring.examples(sources, references, hypotheses, baseline),
        )
        return metrics, {}

    def headline(self, metrics):
        test, base = metrics["test"], metrics["baseline"]
        return (
            f"test BLEU {test['bleu']:.2f}, chrF {test['chrf']:.2f} (retrieval baseline: BLEU {base['bleu']:.2f}, "
            f"chrF {base['chrf']:.2f})"
        )

    def card_metrics(self, metrics):
        test, base, difference = metrics["test"], metrics["baseline"], metrics["difference"]

        def cell(values, name):
            low, high = values[f"{name}_interval"]
            return f"{values[name]:.2f} ({low:.2f} to {high:.2f})"

        lines = [
            f"On the test split ({test['sentences']:,} English sentences never seen in training, {test['pairs']:,} "
            f"reference translations; {metrics['decoding']} decoding), sacrebleu's BLEU (`tokenize='zh'`) and "
            "chrF with 95% bootstrap intervals (1,000 resamples of the sentences); the baseline answers with the "
            "Chinese of the nearest English training sentence (TF-IDF cosine):",
            "",
            "| system | BLEU | chrF |",
            "|---|---|---|",
            f"| this model | **{cell(test, 'bleu')}** | **{cell(test, 'chrf')}** |",
            f"| {base['name']} | {cell(base, 'bleu')} | {cell(base, 'chrf')} |",
            f"| model - baseline (paired) | {cell(difference, 'bleu')} | {cell(difference, 'chrf')} |",
        ]
        for kind, title in (("good", "Good"), ("bad", "Bad")):
            lines += ["", f"{title} examples (sentence chrF):", "", "| English | reference | output | chrF |"]
            lines.append("|---|---|---|---|")
            lines += [
                f"| {_cell(e['source'])} | {_cell(e['reference'])} | {_cell(e['output'])} | {e['chrf']:.1f} |"
                for e in metrics["examples"][kind]
            ]
        return lines

    def card_usage_output(self, config, model_variable, inputs):
        return [f"print({model_variable}.translate({inputs}))  # a list of Chinese sentences"]

    def card_limitations(self, config, metrics):
        test, difference = metrics["test"], metrics["difference"]
        verdict = "above" if difference["bleu_interval"][0] > 0 else "not clearly above"
        return [
            f"- BLEU {test['bleu']:.1f} on {test['sentences']:,} test sentences is {verdict} the retrieval "
            "baseline's (the paired 95% interval of the difference); scores of short sentences with one or two "
            "references are noisy, and a fluent output can still be wrong: check translations before relying "
            "on them.",
            "- The TFLite files (`--export`) decode greedily (no beam search) and take one sentence at a time.",
        ]

    def compare(self, outputs, reference, labels):
        return exporting.compare(outputs, reference, labels)

    def gate(self, row, keras_row):
        return exporting.gate(row)

    def decode(self, predictor, outputs, top_k=None):
        """Translations (str), one per input."""
        return exporting.texts_of(outputs, predictor.metadata["target_vocabulary"])

    def tensor_metadata(self, description, detail):
        vocabulary = exporting.vocabulary_file(
            exporting.TARGET_FILE, description["target_vocabulary"], "Chinese characters and special tokens"
        )
        return dict(
            name=detail["name"], description=description.get("output_description", ""), associated_files=[vocabulary]
        )

    def intended_use(self, config, task_name):
        return (
            f"Translating short everyday English sentences like those of `{config['run']['dataset']}` into "
            "Chinese: a reference result and a small model to study; not a production translator."
        )


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


class Translation(Task):
    name, app = "translation", "translate"
    default_model, default_dataset = "transformer_seq2seq", TATOEBA
    side, head = PairsInput(), TranslationHead()

    def export_data(self, config, model, data_dir=None):
        """The decoding model on ids; the distinct test sentences (str) with their references; int8 calibration
        on distinct training sentences' ids."""
        run = config["run"]
        pairs = self.load_data(run["dataset"], run["seed"], data_dir).extras["pairs"]
        sources, references = scoring.grouped(pairs["test"])
        train_sources = scoring.grouped(pairs["train"])[0][: exporting.CALIBRATION_SENTENCES]
        calibration = list(model.source_ids(train_sources).numpy())
        metadata = dict(task=self.name, **exporting.export_metadata(model))
        labels = exporting.References(references, model.target_vocabulary)
        inputs = np.array(sources, dtype=object)
        types = ("int8", "float32")
        unsupported = exporting.unsupported_flavours(model)
        return ExportData(model.decoding_model(), inputs, labels, calibration, metadata, types, unsupported)

    def serving_model(self, model):
        return model.decoding_model(text_input=True)

    def reference_model(self, model):
        return exporting.KerasGreedy(model)
