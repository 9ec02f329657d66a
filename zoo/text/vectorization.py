"""Text vectorization shared by the text models: raw strings -> token ids -> logits.

Every word model is `keras.Model(text, token_classifier(vectorize(text)))`:
`vectorize` is a `zoo.text.words.WordVectorizer` holding the vocabulary, and
`token_classifier` is the token-id model that runs on phones (TFLite cannot run
string ops with builtin kernels, so tokenization stays outside it: MediaPipe applies
the same rules from the file's metadata, `zoo.text.Tokenizer` in pure Python).
Runs of zoo 0.3 and before hold a `keras.layers.TextVectorization` with
`lower_and_split_punctuation` instead; they still load (`TextVectorizationTokenizer`).
"""

import keras
import tensorflow as tf

from zoo.errors import ZooError
from zoo.text import words

# The ASCII punctuation that Keras' "strip_punctuation" removes; we keep each
# mark as a token of its own instead ("great!" -> "great !"), since "!" and "?"
# carry sentiment.
PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
_PUNCTUATION_CLASS = "[" + "".join("\\" + c for c in PUNCTUATION) + "]"
PADDING_ID, OOV_ID = 0, 1
STANDARDIZE = "lower_and_split_punctuation"
MAX_TOKENS = 20_000  # the builders' default vocabulary size
SEQUENCE_LENGTH = 64  # the builders' default tokens per text


def text_recipe(epochs, learning_rate):
    """The text models' training recipe: AdamW with weight decay 0.01, batches of
    50 (as in Kim 2014), a cosine schedule, no augmentation."""
    return dict(
        epochs=epochs,
        batch_size=50,
        optimizer="adamw",
        learning_rate=learning_rate,
        lr_schedule="cosine",
        weight_decay=1e-2,
        label_smoothing=0.0,
        augment=False,
    )


@keras.saving.register_keras_serializable(package="zoo")
def lower_and_split_punctuation(texts):
    """Lower-cases ASCII letters and puts spaces around ASCII punctuation.

    Only A-Z are lower-cased (TensorFlow's default, which the pure-Python
    `Tokenizer` reproduces exactly); other letters are kept as they are.
    """
    return tf.strings.regex_replace(tf.strings.lower(texts), f"({_PUNCTUATION_CLASS})", r" \1 ")


def make_vectorizer(sequence_length, max_tokens=None, vocabulary=None, name="vectorize", ngrams=None):
    """Returns the `TextVectorization` layer: standardize, split on whitespace,
    look up (0 = padding, 1 = out of vocabulary), pad or cut to `sequence_length`.

    With `ngrams=n`, the tokens looked up are all 1-grams of a text, then all its
    2-grams (two tokens joined by a space), and so on up to n-grams.
    """
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=lower_and_split_punctuation,
        split="whitespace",
        ngrams=ngrams,
        output_mode="int",
        output_sequence_length=sequence_length,
        vocabulary=vocabulary,
        name=name,
    )


def build_vocabulary(texts, max_tokens=MAX_TOKENS, rules="words"):
    """Returns the `max_tokens - 2` most frequent tokens of `texts`, most frequent first.

    Args:
        texts: a `tf.data.Dataset` of strings (e.g. the training split's texts),
            or a list of strings.
        max_tokens: vocabulary size including padding and out-of-vocabulary.
        rules: "words", the word models' lower-cased words (`zoo.text.words`), or
            "punctuation", the tokens of `lower_and_split_punctuation` (`bert`'s whole-word vocabulary).
    """
    if rules not in ("words", "punctuation"):
        raise ZooError(f"Vocabulary rules are 'words' or 'punctuation'. Received: rules={rules!r}")
    if isinstance(texts, tf.data.Dataset):
        texts = texts.batch(1024)
    vectorizer = make_vectorizer(sequence_length=None, max_tokens=max_tokens)
    if rules == "words":
        vectorizer = keras.layers.TextVectorization(max_tokens, standardize=words.lower_and_split_words)
    vectorizer.adapt(texts)
    vocabulary = [str(token) for token in vectorizer.get_vocabulary(include_special_tokens=False)]
    if not vocabulary:
        raise ZooError("The training texts hold no tokens: check that the dataset is not empty.")
    return vocabulary


def text_classifier(name, token_classifier, vocabulary, max_tokens, sequence_length):
    """Wraps a token-id model `token_classifier` so that it takes raw strings, tokenized by a
    `zoo.text.words.WordVectorizer` (the rules MediaPipe's regex tokenizer applies).

    Args:
        name: the model's name.
        token_classifier: `keras.Model` from int token ids `(sequence_length,)` to logits.
        vocabulary: lower-case words (from `build_vocabulary`), or None for a model
            whose every word is unknown.
        max_tokens, sequence_length: as given to the builder.
    """
    vocabulary_size(vocabulary, max_tokens)
    text = keras.Input(shape=(), dtype="string", name="text")
    token_ids = words.WordVectorizer(vocabulary, sequence_length, name="vectorize")(text)
    return keras.Model(text, token_classifier(token_ids), name=name)


def token_input(sequence_length):
    """The int32 token-id input of a token classifier."""
    return keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")


def vocabulary_size(vocabulary, max_tokens):
    """Rows of the embedding table: the vocabulary plus padding and OOV ids."""
    if vocabulary is None:
        return max_tokens
    if len(vocabulary) + 2 > max_tokens:
        raise ZooError(
            f"The vocabulary has {len(vocabulary)} tokens, more than max_tokens - 2 = "
            f"{max_tokens - 2}: build it with build_vocabulary(texts, max_tokens)."
        )
    return len(vocabulary) + 2


def padding_mask(token_ids):
    """True where `token_ids` holds a token, False on padding."""
    return keras.ops.not_equal(token_ids, PADDING_ID)


def masked_average(sequence, mask):
    """Average of `sequence` (batch, length, dim) over its unmasked positions; zeros
    for an empty text (no division by zero)."""
    weights = keras.ops.expand_dims(keras.ops.cast(mask, sequence.dtype), -1)
    total = keras.ops.sum(sequence * weights, axis=1)
    count = keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)
    return total / count


def token_id_model(model):
    """Returns the token-id part of a text model: int32 `(sequence_length,)` ids ->
    logits. It shares the model's weights; this is what TFLite runs."""
    try:
        return model.get_layer("token_classifier")
    except ValueError:
        raise ZooError(f"Model {model.name!r} is not a zoo text model (it has no 'token_classifier' layer).") from None


def vectorizer_of(model):
    """Returns the `TextVectorization` layer of a text model."""
    try:
        return model.get_layer("vectorize")
    except ValueError:
        raise ZooError(f"Model {model.name!r} is not a zoo text model (it has no 'vectorize' layer).") from None
