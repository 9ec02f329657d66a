"""Pure-Python tokenization identical to a text model's own tokenization layer.

On phones the TFLite model takes token ids (string ops need Flex kernels), so the
tokenization travels as data (`config()`, e.g. in the export sidecar, and the file's
metadata, which MediaPipe applies) and is re-done by this code, or by its port to the
app's language. `tokenizer_of(model)` picks the right one: `WordPieceTokenizer` for
`bert`, `zoo.text.words.Tokenizer` for the word models, and for word-model runs of
zoo 0.3 and before `TextVectorizationTokenizer`, whose `TextVectorization` rules are:

1. lower-case A-Z only (other characters are kept as they are);
2. put a space on each side of every ASCII punctuation mark in `PUNCTUATION`;
3. split on runs of ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r) only;
4. with `ngrams` = n > 1 (`nbsvm`), the tokens become all the words, then all
   pairs of consecutive words joined by one space, ..., then all n-word runs;
5. look each token up in `vocabulary` (id = index; 0 is padding, 1 out of vocabulary);
6. keep the first `sequence_length` ids, pad with 0 to `sequence_length`.
"""

import re
import string

import keras_hub
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError
from zoo.text import vectorization, words
from zoo.text.bert import TOKEN_INPUTS

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_PUNCTUATION = re.compile(f"([{re.escape(vectorization.PUNCTUATION)}])")
_ASCII_WHITESPACE = re.compile("[ \t\n\v\f\r]+")
_PREPROCESSOR = "preprocessor"  # bert's keras-hub tokenizer and packer
# keras-hub WordPieceTokenizer options that the sidecar carries.
_WORDPIECE_RULES = ("lowercase", "strip_accents", "split_on_cjk", "suffix_indicator", "oov_token")


def _strings(texts):
    if isinstance(texts, (str, bytes)):
        raise ZooError("Tokenizer takes a list of strings; wrap a single text in a list.")
    return [text.decode("utf-8") if isinstance(text, bytes) else text for text in texts]


def _preprocessor(model):
    return next((layer for layer in model.layers if layer.name == _PREPROCESSOR), None)


class TextVectorizationTokenizer:
    """Maps raw strings to the token ids a `TextVectorization` `vectorize` layer (zoo 0.3 and before) gives.

    Args:
        vocabulary: all ids' tokens, as `TextVectorization.get_vocabulary()`
            returns them (index 0 is "", index 1 is "[UNK]").
        sequence_length: ids per text.
        ngrams: 1 for words, n for all 1- to n-grams (`TextVectorization(ngrams=n)`).
    """

    def __init__(self, vocabulary, sequence_length, ngrams=1):
        if list(vocabulary[:2]) != ["", "[UNK]"]:
            raise ZooError(
                "The vocabulary must start with the padding and OOV tokens ['', '[UNK]']. "
                f"Received: vocabulary[:2]={list(vocabulary[:2])}"
            )
        self.vocabulary = [str(token) for token in vocabulary]
        self.sequence_length = int(sequence_length)
        if isinstance(ngrams, bool) or not isinstance(ngrams, int) or ngrams < 1:
            raise ZooError(f"ngrams must be a positive int (1 for words). Received: ngrams={ngrams!r}")
        self.ngrams = ngrams
        self._ids = {token: i for i, token in enumerate(self.vocabulary) if i >= 2}

    @classmethod
    def from_model(cls, model):
        """The tokenizer of a zoo text model (its `vectorize` layer)."""
        vectorizer = vectorization.vectorizer_of(model)
        config = vectorizer.get_config()
        return cls(vectorizer.get_vocabulary(), config["output_sequence_length"], config["ngrams"] or 1)

    @classmethod
    def from_config(cls, config):
        """Rebuilds a tokenizer from `config()`; refuses rules it does not implement."""
        if config.get("standardize") != vectorization.STANDARDIZE or config.get("split") != "whitespace":
            raise ZooError(
                f"Unsupported tokenization rules: standardize={config.get('standardize')!r}, "
                f"split={config.get('split')!r}; this zoo implements "
                f"standardize={vectorization.STANDARDIZE!r}, split='whitespace'."
            )
        return cls(config["vocabulary"], config["sequence_length"], config.get("ngrams", 1))

    def config(self):
        """The tokenization rules and vocabulary as a JSON-serializable dict."""
        return dict(
            type="text_vectorization",
            standardize=vectorization.STANDARDIZE,
            lowercase="ascii",
            punctuation=vectorization.PUNCTUATION,
            split="whitespace",
            whitespace=" \t\n\v\f\r",
            ngrams=self.ngrams,
            ngram_order="all 1-grams, then all 2-grams (words joined by one space), ..., up to ngrams",
            padding_id=vectorization.PADDING_ID,
            oov_id=vectorization.OOV_ID,
            sequence_length=self.sequence_length,
            vocabulary=self.vocabulary,
        )

    def tokens(self, text):
        """Standardizes and splits one string into its tokens (before the lookup)."""
        text = _PUNCTUATION.sub(r" \1 ", text.translate(_ASCII_LOWER))
        return [token for token in _ASCII_WHITESPACE.split(text) if token]

    def ngrams_of(self, tokens):
        """All 1-grams of `tokens`, then all 2-grams, ..., up to `ngrams`-grams."""
        return [
            " ".join(tokens[start : start + width])
            for width in range(1, self.ngrams + 1)
            for start in range(len(tokens) - width + 1)
        ]

    def inputs(self, texts):
        """What the TFLite file is fed: the ids."""
        return self(texts)

    def __call__(self, texts):
        """Returns int32 ids of shape `(len(texts), sequence_length)`."""
        texts = _strings(texts)
        ids = np.full((len(texts), self.sequence_length), vectorization.PADDING_ID, np.int32)
        for row, text in enumerate(texts):
            tokens = self.ngrams_of(self.tokens(text))[: self.sequence_length]
            ids[row, : len(tokens)] = [self._ids.get(t, vectorization.OOV_ID) for t in tokens]
        return ids


class WordPieceTokenizer:
    """Maps raw strings to the token ids a `bert` model's keras-hub `preprocessor` gives.

    It runs keras-hub's own `WordPieceTokenizer` and `StartEndPacker`, called
    eagerly: their pure-Python path, which keras-hub keeps identical to the
    tf-text ops the model runs in training; its source
    (`keras_hub/src/tokenizers/word_piece_tokenizer.py`: `pretokenize_python`,
    `_tokenize_word_python`) is the reference for a port. The rules:

    1. if `strip_accents`, Unicode NFD, then drop combining marks (category Mn);
    2. split at ASCII whitespace and control/format characters (Cc, Cf; dropped),
       and at punctuation (ASCII non-alphanumerics, Unicode P*) and, if
       `split_on_cjk`, CJK ideographs (each kept as a word of its own);
    3. if `lowercase`, NFKC case folding of each word (NFKC, `str.casefold`,
       NFKC, then drop default-ignorable code points);
    4. WordPiece per word: longest vocabulary match first, later pieces prefixed
       with `suffix_indicator`; a word that does not split entirely into pieces,
       or is longer than 100 UTF-8 bytes, is one `oov_token`;
    5. `cls_id`, the first `sequence_length - 2` piece ids, `sep_id`, then
       `pad_id` up to `sequence_length`.

    Args:
        vocabulary: all pieces, id = index.
        sequence_length: ids per text, [CLS] and [SEP] included.
        lowercase, strip_accents, split_on_cjk, suffix_indicator, oov_token:
            as keras-hub's `WordPieceTokenizer` takes them.
        cls_id, sep_id, pad_id: the ids that start, end and pad each text.
    """

    def __init__(self, vocabulary, sequence_length, *, cls_id, sep_id, pad_id, model_inputs=("token_ids",), **rules):
        self.model_inputs = tuple(model_inputs)
        if self.model_inputs not in (("token_ids",), TOKEN_INPUTS):
            raise ZooError(f"model_inputs are {('token_ids',)} or {TOKEN_INPUTS}. Received: {self.model_inputs}")
        self.vocabulary = [str(token) for token in vocabulary]
        self.sequence_length = int(sequence_length)
        self.rules = {name: rules[name] for name in _WORDPIECE_RULES}
        self.special_ids = dict(cls_id=int(cls_id), sep_id=int(sep_id), pad_id=int(pad_id))
        self._wordpiece = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=self.vocabulary, **self.rules)
        self._packer = keras_hub.layers.StartEndPacker(
            self.sequence_length, start_value=cls_id, end_value=sep_id, pad_value=pad_id
        )

    @classmethod
    def from_model(cls, model):
        """The tokenizer of a `bert` model (its keras-hub `preprocessor` layer)."""
        preprocessor = _preprocessor(model)
        if preprocessor is None:
            raise ZooError(f"Model {model.name!r} is not a zoo bert model (it has no {_PREPROCESSOR!r} layer).")
        tokenizer = preprocessor.tokenizer
        if not tokenizer.split or tokenizer.special_tokens_in_strings:
            raise ZooError(
                "Unsupported WordPiece rules: this zoo implements split=True, "
                f"special_tokens_in_strings=False. Received: split={tokenizer.split}, "
                f"special_tokens_in_strings={tokenizer.special_tokens_in_strings}"
            )
        return cls(
            tokenizer.get_vocabulary(),
            preprocessor.sequence_length,
            model_inputs=[tensor.name for tensor in vectorization.token_id_model(model).inputs],
            cls_id=tokenizer.cls_token_id,
            sep_id=tokenizer.sep_token_id,
            pad_id=tokenizer.pad_token_id,
            **{name: getattr(tokenizer, name) for name in _WORDPIECE_RULES},
        )

    @classmethod
    def from_config(cls, config):
        """Rebuilds a tokenizer from `config()`."""
        options = {name: config[name] for name in (*_WORDPIECE_RULES, "cls_id", "sep_id", "pad_id")}
        # Files of zoo 0.3 and before take the ids alone.
        options["model_inputs"] = config.get("model_inputs", ["token_ids"])
        return cls(config["vocabulary"], config["sequence_length"], **options)

    def config(self):
        """The tokenization rules and vocabulary as a JSON-serializable dict."""
        return dict(
            type="wordpiece",
            **self.rules,
            **self.special_ids,
            packing="[CLS] pieces[: sequence_length - 2] [SEP], then [PAD] to sequence_length",
            model_inputs=list(self.model_inputs),
            model_inputs_are="token_ids: the ids; padding_mask: 1 where an id is not [PAD], else 0; segment_ids: 0",
            sequence_length=self.sequence_length,
            vocabulary=self.vocabulary,
        )

    def __call__(self, texts):
        """Returns int32 ids of shape `(len(texts), sequence_length)`."""
        texts = _strings(texts)
        if not texts:
            return np.zeros((0, self.sequence_length), np.int32)
        return np.asarray(self._packer(self._wordpiece(texts)), np.int32)

    def inputs(self, texts):
        """What the TFLite file is fed: the ids, or `{token_ids, padding_mask, segment_ids}` (BERT's three)."""
        ids = self(texts)
        if self.model_inputs == ("token_ids",):
            return ids
        mask = (ids != self.special_ids["pad_id"]).astype(np.int32)
        return dict(token_ids=ids, padding_mask=mask, segment_ids=np.zeros_like(ids))


def tokenizer_of(model):
    """The Python tokenizer of a zoo text model: `WordPieceTokenizer` for `bert`,
    `words.Tokenizer` for word models, `TextVectorizationTokenizer` for those of zoo 0.3."""
    if _preprocessor(model) is not None:
        return WordPieceTokenizer.from_model(model)
    if isinstance(vectorization.vectorizer_of(model), words.WordVectorizer):
        return words.Tokenizer.from_model(model)
    return TextVectorizationTokenizer.from_model(model)


def tokenizer_from_config(config):
    """Rebuilds `tokenizer_of(model).config()` (e.g. read from an export sidecar)."""
    kinds = {words.TYPE: words.Tokenizer, "text_vectorization": TextVectorizationTokenizer}
    kinds["wordpiece"] = WordPieceTokenizer
    if config.get("type") not in kinds:
        raise ZooError(
            f"Unknown tokenizer type {config.get('type')!r}: this zoo implements "
            f"{', '.join(kinds)}; export the model again with this version."
        )
    return kinds[config["type"]].from_config(config)


def token_model_examples(model, texts):
    """The inputs of `token_id_model(model)` for each of `texts`, as the Keras model makes them: one
    array per text, or a dict by input name per text for several inputs (`bert`'s ids, padding mask and
    segment ids)."""
    preprocessor = _preprocessor(model)
    if preprocessor is None or len(vectorization.token_id_model(model).inputs) == 1:
        return list(keras_token_ids(model, texts))
    packed = preprocessor(tf.constant(texts))
    parts = [np.asarray(packed[name], np.int32) for name in TOKEN_INPUTS]
    return [dict(zip(TOKEN_INPUTS, example)) for example in zip(*parts)]


def keras_token_ids(model, texts):
    """The int32 ids `(len(texts), sequence_length)` of `texts` from a text model's
    own tokenization layer, as in training; `tokenizer_of(model)` gives the same."""
    texts = tf.constant(texts)
    preprocessor = _preprocessor(model)
    if preprocessor is not None:
        return np.asarray(preprocessor(texts)["token_ids"], np.int32)
    return np.asarray(vectorization.vectorizer_of(model)(texts), np.int32)  # int64 in TextVectorization
