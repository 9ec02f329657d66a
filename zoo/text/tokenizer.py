"""Pure-Python tokenization identical to a text model's `TextVectorization` layer.

On phones the TFLite model takes token ids (string ops need Flex kernels), so the
tokenization travels as data (`Tokenizer.config()`, e.g. in the model's metadata)
and is re-done by this code, or by its port to the app's language:

1. lower-case A-Z only (other characters are kept as they are);
2. put a space on each side of every ASCII punctuation mark in `PUNCTUATION`;
3. split on runs of ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r) only;
4. look each token up in `vocabulary` (id = index; 0 is padding, 1 out of vocabulary);
5. keep the first `sequence_length` ids, pad with 0 to `sequence_length`.
"""

import re
import string

import numpy as np

from zoo.errors import ZooError
from zoo.text import vectorization

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_PUNCTUATION = re.compile(f"([{re.escape(vectorization.PUNCTUATION)}])")
_ASCII_WHITESPACE = re.compile("[ \t\n\v\f\r]+")


class Tokenizer:
    """Maps raw strings to the token ids a text model's `vectorize` layer gives.

    Args:
        vocabulary: all ids' tokens, as `TextVectorization.get_vocabulary()`
            returns them (index 0 is "", index 1 is "[UNK]").
        sequence_length: ids per text.
    """

    def __init__(self, vocabulary, sequence_length):
        if list(vocabulary[:2]) != ["", "[UNK]"]:
            raise ZooError(
                "The vocabulary must start with the padding and OOV tokens ['', '[UNK]']. "
                f"Received: vocabulary[:2]={list(vocabulary[:2])}"
            )
        self.vocabulary = [str(token) for token in vocabulary]
        self.sequence_length = int(sequence_length)
        self._ids = {token: i for i, token in enumerate(self.vocabulary) if i >= 2}

    @classmethod
    def from_model(cls, model):
        """The tokenizer of a zoo text model (its `vectorize` layer)."""
        vectorizer = vectorization.vectorizer_of(model)
        return cls(vectorizer.get_vocabulary(), vectorizer.get_config()["output_sequence_length"])

    @classmethod
    def from_config(cls, config):
        """Rebuilds a tokenizer from `config()`; refuses rules it does not implement."""
        if config.get("standardize") != vectorization.STANDARDIZE or config.get("split") != "whitespace":
            raise ZooError(
                f"Unsupported tokenization rules: standardize={config.get('standardize')!r}, "
                f"split={config.get('split')!r}; this zoo implements "
                f"standardize={vectorization.STANDARDIZE!r}, split='whitespace'."
            )
        return cls(config["vocabulary"], config["sequence_length"])

    def config(self):
        """The tokenization rules and vocabulary as a JSON-serializable dict."""
        return dict(
            standardize=vectorization.STANDARDIZE,
            lowercase="ascii",
            punctuation=vectorization.PUNCTUATION,
            split="whitespace",
            whitespace=" \t\n\v\f\r",
            padding_id=vectorization.PADDING_ID,
            oov_id=vectorization.OOV_ID,
            sequence_length=self.sequence_length,
            vocabulary=self.vocabulary,
        )

    def tokens(self, text):
        """Standardizes and splits one string into its tokens (before the lookup)."""
        text = _PUNCTUATION.sub(r" \1 ", text.translate(_ASCII_LOWER))
        return [token for token in _ASCII_WHITESPACE.split(text) if token]

    def __call__(self, texts):
        """Returns int32 ids of shape `(len(texts), sequence_length)`."""
        if isinstance(texts, str):
            raise ZooError("Tokenizer takes a list of strings; wrap a single text in a list.")
        ids = np.full((len(texts), self.sequence_length), vectorization.PADDING_ID, np.int32)
        for row, text in enumerate(texts):
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            tokens = self.tokens(text)[: self.sequence_length]
            ids[row, : len(tokens)] = [self._ids.get(t, vectorization.OOV_ID) for t in tokens]
        return ids
