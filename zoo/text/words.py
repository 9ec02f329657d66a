"""Word tokenization that MediaPipe's regex tokenizer applies exactly, in Keras and in pure Python.

MediaPipe Tasks' `TextClassifier` (Android, iOS, web) tokenizes a model with one int32
input itself, from the input's `RegexTokenizerOptions` metadata: it splits the text at
every match of `delim_regex_pattern` with RE2 (the matches and empty pieces dropped),
looks each piece up exactly in a `token id` vocabulary file (`<UNKNOWN>` if absent), keeps
the first `sequence_length` ids and pads with `<PAD>`. It cannot lower-case, so the zoo's
rules are:

1. split at runs of characters other than ASCII letters, digits and `_` (`PATTERN`:
   RE2's `\\W` is ASCII only): punctuation, apostrophes, spaces and non-ASCII
   characters separate words and are dropped ("It's GREAT!" -> "It", "s", "GREAT";
   "café" -> "caf"). Splitting at apostrophes, as zoo's earlier rules did, keeps
   "film's" the word "film" (and "s"): with Model Maker's `[^\\w']+`, textcnn lost
   1.3 points of MR validation accuracy. Punctuation cannot stay a word of its own:
   MediaPipe drops delimiters, and a pattern that matches the empty string between a
   word and a mark hangs it;
2. look each word up in the vocabulary's case variants: every vocabulary word (learned
   from the lower-cased training texts) is listed lower-case, Capitalized and UPPER-CASE,
   all with the word's id, so "great", "Great" and "GREAT" are one word and "gReat" is
   unknown (id 1);
3. ids: 0 padding, 1 unknown, then the vocabulary in order (most frequent first) from 2;
   the first `sequence_length` words, padded with 0.

`WordVectorizer` is the Keras layer (TensorFlow's regex ops are RE2 too), `Tokenizer` the
same in Python, and `vocabulary_file()` the file MediaPipe reads (`<PAD> 0`, `<UNKNOWN> 1`,
then `variant id` lines).
"""

import re

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError

PATTERN = r"\W+"  # RE2 syntax: `\W` is [^0-9A-Za-z_]
_PYTHON_PATTERN = re.compile(r"[^0-9A-Za-z_]+")  # the same in Python's `re`, whose `\W` is Unicode
PADDING_ID, OOV_ID = 0, 1
PAD_TOKEN, UNKNOWN_TOKEN = "<PAD>", "<UNKNOWN>"
TYPE = "regex_words"  # the tokenizer config's type (sidecars); "text_vectorization" is the one before
CASES = ("lower", "capitalized", "upper")


def case_variants(word):
    """The spellings of a lower-case vocabulary `word` that map to its id: lower, Capitalized, UPPER."""
    variants = (word, word[:1].upper() + word[1:], word.upper())
    return list(dict.fromkeys(variants))  # "123" has one spelling


def variant_table(vocabulary):
    """`(variants, ids)`: every case variant of every word of `vocabulary` and its id (index + 2)."""
    variants, ids = [], []
    for index, word in enumerate(vocabulary):
        for variant in case_variants(word):
            variants.append(variant)
            ids.append(index + 2)
    return variants, ids


def split_words(text):
    """The words of one string, as RE2 splits it at `PATTERN` (empty pieces dropped)."""
    return [word for word in _PYTHON_PATTERN.split(text) if word]


def vocabulary_file(vocabulary):
    """The MediaPipe vocabulary file (bytes): `<PAD> 0`, `<UNKNOWN> 1`, then `variant id` per line."""
    lines = [f"{PAD_TOKEN} {PADDING_ID}", f"{UNKNOWN_TOKEN} {OOV_ID}"]
    lines += [f"{variant} {index}" for variant, index in zip(*variant_table(vocabulary))]
    return ("\n".join(lines) + "\n").encode()


@keras.saving.register_keras_serializable(package="zoo")
def lower_and_split_words(texts):
    """The standardization that `build_vocabulary` counts words with: ASCII lower-casing, then
    every run of `PATTERN` replaced by one space."""
    return tf.strings.regex_replace(tf.strings.lower(texts), PATTERN, " ")


def check_vocabulary(vocabulary):
    """Refuses words that the rules can never produce (upper case, or characters `PATTERN` splits at)."""
    bad = [word for word in vocabulary if split_words(word) != [word] or word != word.lower()]
    if bad:
        raise ZooError(
            f"Vocabulary words must be lower-case runs of ASCII letters, digits and '_' "
            f"(build them with build_vocabulary). Received: {bad[:5]}"
        )


@keras.saving.register_keras_serializable(package="zoo")
class WordVectorizer(keras.layers.Layer):
    """Raw strings -> int32 word ids `(batch, sequence_length)` by the module's rules.

    Args:
        vocabulary: lower-case words, most frequent first (id = index + 2); None: every
            word is unknown until a model is built with one.
        sequence_length: ids per text.
    """

    def __init__(self, vocabulary=None, sequence_length=64, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = None if vocabulary is None else [str(word) for word in vocabulary]
        self.sequence_length = int(sequence_length)
        self.supports_jit = False  # string ops
        variants, ids = variant_table(self.vocabulary or [])
        check_vocabulary(self.vocabulary or [])
        self._lookup = None
        if variants:
            self._lookup = keras.layers.StringLookup(vocabulary=variants, num_oov_indices=1, name="lookup")
        self._ids = tf.constant([OOV_ID, *ids], tf.int32)  # StringLookup's index 0 is its OOV index

    def get_vocabulary(self, include_special_tokens=True):
        """The words by id, as `TextVectorization.get_vocabulary` gives them: "" (padding), "[UNK]", then the
        vocabulary (lower-case spellings; ids 0 and 1 first only with `include_special_tokens`)."""
        words = list(self.vocabulary or [])
        return ["", "[UNK]", *words] if include_special_tokens else words

    def build(self, input_shape=None):
        pass  # the lookup table is made in __init__, from the vocabulary

    def call(self, texts):
        words = tf.strings.split(tf.strings.regex_replace(texts, PATTERN, " "))[:, : self.sequence_length]
        if self._lookup is None:
            ids = tf.fill(tf.shape(words.flat_values), OOV_ID)
        else:
            ids = tf.gather(self._ids, tf.cast(self._lookup(words.flat_values), tf.int32))
        return words.with_flat_values(ids).to_tensor(PADDING_ID, shape=[None, self.sequence_length])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.sequence_length)

    def compute_output_spec(self, texts):
        return keras.KerasTensor((texts.shape[0], self.sequence_length), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary, "sequence_length": self.sequence_length}


class Tokenizer:
    """Maps raw strings to the ids of a text model's `WordVectorizer`, as MediaPipe does from the file.

    Args:
        vocabulary: lower-case words, most frequent first (id = index + 2).
        sequence_length: ids per text.
    """

    def __init__(self, vocabulary, sequence_length):
        self.vocabulary = [str(word) for word in vocabulary]
        check_vocabulary(self.vocabulary)
        self.sequence_length = int(sequence_length)
        self._ids = dict(zip(*variant_table(self.vocabulary)))

    @classmethod
    def from_model(cls, model):
        """The tokenizer of a zoo word model (its `vectorize` layer, a `WordVectorizer`)."""
        layer = model.get_layer("vectorize")
        if not isinstance(layer, WordVectorizer):
            raise ZooError(f"Model {model.name!r} tokenizes with {type(layer).__name__}, not WordVectorizer.")
        return cls(layer.vocabulary or [], layer.sequence_length)

    @classmethod
    def from_config(cls, config):
        """Rebuilds a tokenizer from `config()`; refuses rules it does not implement."""
        if config.get("pattern") != PATTERN or tuple(config.get("cases", ())) != CASES:
            raise ZooError(
                f"Unsupported word rules: pattern={config.get('pattern')!r}, cases={config.get('cases')!r}; "
                f"this zoo implements pattern={PATTERN!r}, cases={list(CASES)}."
            )
        return cls(config["vocabulary"], config["sequence_length"])

    def config(self):
        """The tokenization rules and vocabulary as a JSON-serializable dict."""
        return dict(
            type=TYPE,
            pattern=PATTERN,
            pattern_syntax="RE2 (\\W is ASCII [^0-9A-Za-z_]); pieces between matches, empty ones dropped",
            cases=list(CASES),
            lookup="exact, in the case variants of each word (lower, Capitalized, UPPER) -> the word's id",
            padding_id=PADDING_ID,
            oov_id=OOV_ID,
            first_word_id=2,
            sequence_length=self.sequence_length,
            vocabulary=self.vocabulary,
        )

    def tokens(self, text):
        """The words of one string (before the lookup)."""
        return split_words(text)

    def __call__(self, texts):
        """Returns int32 ids of shape `(len(texts), sequence_length)`."""
        if isinstance(texts, (str, bytes)):
            raise ZooError("Tokenizer takes a list of strings; wrap a single text in a list.")
        texts = [text.decode("utf-8") if isinstance(text, bytes) else text for text in texts]
        ids = np.full((len(texts), self.sequence_length), PADDING_ID, np.int32)
        for row, text in enumerate(texts):
            words = split_words(text)[: self.sequence_length]
            ids[row, : len(words)] = [self._ids.get(word, OOV_ID) for word in words]
        return ids

    def inputs(self, texts):
        """What the TFLite file is fed: the ids."""
        return self(texts)
