"""The text input side: raw strings in; TFLite files run on token ids, with the tokenizer in the sidecar."""

import numpy as np

from zoo import text
from zoo.datasets import load_text_dataset
from zoo.errors import ZooError
from zoo.tasks.base import Dataset, InputSide
from zoo.tasks.classification import calibration_inputs
from zoo.tasks.image_input import describe_array
from zoo.text import vectorization, words

VOCABULARY_FILE = "vocab.txt"
# MediaPipe finds BERT's three inputs by these metadata names.
BERT_INPUT_NAMES = dict(token_ids="ids", padding_mask="mask", segment_ids="segment_ids")


class TextInput(InputSide):
    """UTF-8 strings; tokenization is inside the Keras model, and in the sidecar for TFLite files."""

    catalog = (
        Dataset(
            "mr",
            "9,559 movie-review sentences labelled negative or positive (the sentence polarity dataset "
            "v1.0 of Pang and Lee 2005), embedded in zoo, split 80/10/10 with the run's seed",
            "Trained on short English movie-review sentences, lower-cased and tokenized: other domains, "
            "languages, long documents or sarcasm fare worse.",
        ),
        Dataset(
            "lines:DIR",
            "one UTF-8 file per class (the class is the file name without its extension), one example per line, "
            "split 80/10/10 with the run's seed",
        ),
        Dataset(
            "folder:DIR",
            "one sub-folder per class, one UTF-8 .txt file per example, split 80/10/10 with the run's seed",
        ),
        Dataset(
            "NAME",
            "any tfds text-classification dataset prepared offline in --data_dir (imdb_reviews, glue/sst2, "
            "...); its own validation and test splits where it has them",
        ),
    )
    description = "raw UTF-8 strings; tokenization is inside the model"
    mediapipe_task = "TextClassifier"

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        return load_text_dataset(dataset, seed=seed, data_dir=data_dir)

    def check(self, model_name, options, recipe):
        for name in ("preset", "pooling"):
            if options.get(name) and model_name != "bert":
                raise ZooError(f"--{name} is for --model=bert only. Received: --model={model_name}")

    def adapt(self, model_name, splits, options):
        max_tokens = options.get("max_tokens") or vectorization.MAX_TOKENS
        return dict(vocabulary=vectorization.build_vocabulary(splits.train.map(lambda x, y: x), max_tokens))

    def raw_inputs(self, inputs):
        return np.array([item.decode("utf-8") for item in inputs], dtype=object)

    def export_inputs(self, config, model, splits):
        calibration = text.token_model_examples(model, calibration_inputs(splits.train))
        metadata = dict(
            input_description="int32 token ids (1, sequence_length) of one text, from `tokenizer` "
            "(rules and vocabulary); the SavedModel takes raw strings",
            tokenizer=text.tokenizer_of(model).config(),
        )
        return text.token_id_model(model), calibration, metadata

    def tokenizer(self, predictor):
        """The Python tokenizer of the file's sidecar, built once per `predictor`."""
        if getattr(predictor, "_tokenizer", None) is None:
            tokenizer = text.tokenizer_from_config(predictor.metadata["tokenizer"])
            if tuple(predictor.file_input_shape) != (tokenizer.sequence_length,):
                raise ZooError(
                    f"{predictor.path.name} takes token ids of shape {tuple(predictor.file_input_shape)} but its "
                    f"sidecar's tokenizer gives {tokenizer.sequence_length} per text: export it again."
                )
            predictor._tokenizer = tokenizer
        return predictor._tokenizer

    def predictor_inputs(self, predictor, texts):
        batch = [texts] if isinstance(texts, str) else texts
        listed = isinstance(batch, (list, tuple)) or (isinstance(batch, np.ndarray) and batch.ndim == 1)
        if not (listed and len(batch) and all(isinstance(item, str) for item in batch)):
            raise ZooError(
                f"{predictor.path.name} classifies text: pass a str or a list of str (decode bytes "
                f"first, e.g. data.decode('utf-8')). Received: {describe_array(texts)}"
            )
        return self.tokenizer(predictor).inputs(batch)  # ids, or bert's {token_ids, padding_mask, segment_ids}

    def file_metadata(self, description, details):
        """The tokenizer in the form MediaPipe's `TextClassifier` applies: word models' input carries
        `RegexTokenizerOptions` with the vocabulary (`token id` lines, three spellings a word); a `bert` file's
        three inputs are named `ids`, `mask`, `segment_ids` with `BertTokenizerOptions` for the subgraph. A
        tokenizer MediaPipe cannot apply (zoo 0.3's) is described in words and left to the app."""
        tokenizer = description["tokenizer"]
        tensors = [
            dict(name=detail["name"], description=description.get("input_description", "")) for detail in details
        ]
        if tokenizer.get("type") == words.TYPE:
            vocabulary = dict(
                name=VOCABULARY_FILE,
                description="Words (lower, Capitalized, UPPER) and their ids: `token id` lines.",
                type="VOCABULARY",
                content=words.vocabulary_file(tokenizer["vocabulary"]),
            )
            options = dict(delim_regex_pattern=tokenizer["pattern"], vocab_file=[vocabulary])
            tensors[0]["process_units"] = [("RegexTokenizerOptions", options)]
            return tensors, []
        three = tuple(tokenizer.get("model_inputs", ())) == tuple(BERT_INPUT_NAMES)
        if tokenizer.get("type") == "wordpiece" and three and tokenizer["pad_id"] == 0:
            for tensor in tensors:
                tensor["name"] = next(name for key, name in BERT_INPUT_NAMES.items() if key in tensor["name"])
            pieces = "".join(f"{piece}\n" for piece in tokenizer["vocabulary"]).encode()
            vocabulary = dict(
                name=VOCABULARY_FILE,
                description="WordPiece pieces, id = line index.",
                type="VOCABULARY",
                content=pieces,
            )
            return tensors, [("BertTokenizerOptions", dict(vocab_file=[vocabulary]))]
        return tensors, []

    def card_usage_input(self, config):
        return "texts)"

    def card_limitations(self, config):
        run = config["run"]
        # A run started from --pretrained keeps that run's sequence length unless it set one.
        default = None if run.get("pretrained") else vectorization.SEQUENCE_LENGTH
        length = run["options"].get("sequence_length") or default
        return [
            f"- It reads only the first {length or '`sequence_length`'} tokens of a text (the rest is cut "
            "off) and knows only the words of its vocabulary, built from its training texts or taken from "
            "what it started from (a --pretrained run, a BERT preset): other words carry little or no "
            "meaning for it."
        ]
