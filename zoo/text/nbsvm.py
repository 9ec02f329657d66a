"""NBSVM: Wang & Manning (2012), "Baselines and Bigrams: Simple, Good Sentiment and
Topic Classification".

A linear model on binarized unigram and bigram features, each scaled by its
naive-Bayes log-count ratio, which `fit_nbsvm_inputs` computes on the training split:

    r_c = log((p_c / |p_c|_1) / (q_c / |q_c|_1)),   p_c = alpha + sum of x over the texts of class c,
                                                  q_c = alpha + sum of x over the other texts,

with x the presence (0 or 1) of each n-gram in a text and alpha = 1; one-vs-rest
for several classes (for two, r_1 = -r_0 is the paper's r).

Tokenization: the word models' (`zoo.text.words`, which MediaPipe applies from the
file), 64 words per text; the model forms the bigrams of neighbouring words itself
(`zoo.text.bigrams`: an exact two-choice hash table of the training split's most
frequent bigrams, builtin integer ops), so its features are the words, then the
bigrams (unseen ones share one "unknown bigram" feature). The token-id model (what
TFLite runs, builtin ops only):

    logits = Dense(sum over the distinct n-grams f of a text of r_f * w_f)

`r` is a frozen `Embedding(vocabulary, num_classes)` holding the ratios, `w` a
trainable one starting at zero, so training fits a linear model on the features
r * x, as the paper's NBSVM does. Each distinct n-gram counts once (binarized x):
only the first occurrence of an id in a text counts, and padding never. The
`Dense` (identity at first) adds the bias. Two departures from the paper: the
loss is the zoo's softmax cross-entropy rather than the SVM's squared hinge (NB
logistic regression, as the reference in `scripts/benchmark_text.py`), and there
is no interpolation towards multinomial naive Bayes (MNB): on MR's validation
split, starting from scaled MNB (w = 0.05 to 1 instead of 0) did no better.
Without ratios, r = 1: logistic regression on binarized n-grams.
"""

import keras
import numpy as np

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.text import bigrams, vectorization, words
from zoo.text.bigrams import BigramFeatures

MAX_TOKENS = vectorization.MAX_TOKENS  # words, padding and unknown included
MAX_BIGRAMS = 180_000  # the most frequent bigrams of the training split kept as features
SEQUENCE_LENGTH = vectorization.SEQUENCE_LENGTH  # words per text (and their bigrams)
SMOOTHING = 1.0  # the paper's alpha

# Chosen on MR's validation split (the apps' trainer, seed-0 split); 2 to 5 epochs and
# learning rates 3e-4 to 3e-3 score alike.
_RECIPE = dict(
    epochs=3,
    batch_size=50,
    optimizer="adamw",
    learning_rate=1e-3,
    lr_schedule="cosine",
    weight_decay=1e-2,
    label_smoothing=0.0,
    augment=False,
)


def presence_counts(token_ids, labels, num_classes, vocabulary_size):
    """How many texts of each class hold each id: `(num_classes, vocabulary_size)` ints.

    Args:
        token_ids: int `(texts, sequence_length)` ids; each distinct id of a text
            counts once, padding never.
        labels: int class of each text.
        num_classes, vocabulary_size: the count matrix's shape.
    """
    token_ids, labels = np.asarray(token_ids, np.int64), np.asarray(labels, np.int64)
    if len(labels) and not 0 <= labels.min() <= labels.max() < num_classes:
        raise ZooError(f"Labels must be in [0, {num_classes}). Received: labels from {labels.min()} to {labels.max()}")
    ids = np.sort(token_ids, axis=1)
    first = np.ones(ids.shape, bool)
    first[:, 1:] = ids[:, 1:] != ids[:, :-1]
    first &= ids != vectorization.PADDING_ID
    features = (labels[:, None] * vocabulary_size + ids)[first]
    counts = np.bincount(features, minlength=num_classes * vocabulary_size)
    return counts.reshape(num_classes, vocabulary_size)


def log_count_ratios(counts, smoothing=SMOOTHING):
    """One-vs-rest log-count ratios `(vocabulary_size, num_classes)` float32 from
    `presence_counts`; 0 for padding, which is no feature."""
    counts = np.asarray(counts, np.float64)[:, vectorization.PADDING_ID + 1 :]
    in_class = smoothing + counts
    elsewhere = smoothing + counts.sum(axis=0) - counts
    ratios = np.log(in_class / in_class.sum(axis=1, keepdims=True)) - np.log(
        elsewhere / elsewhere.sum(axis=1, keepdims=True)
    )
    return np.pad(ratios.T, ((1, 0), (0, 0))).astype(np.float32)


def fit_nbsvm_inputs(train_dataset, num_classes, max_tokens=MAX_TOKENS, sequence_length=SEQUENCE_LENGTH):
    """The `nbsvm` builder arguments that come from the training split.

    Args:
        train_dataset: unbatched `tf.data.Dataset` of (string text, int label).
        num_classes: number of classes.
        max_tokens, sequence_length: as the builder will be given them.

    Returns:
        `dict(vocabulary=..., bigrams=..., log_count_ratios=...)`: the most frequent words and
        bigrams (keys, `zoo.text.bigrams`), and the ratios (`log_count_ratios`) of the features the model sees.
    """
    vocabulary = vectorization.build_vocabulary(train_dataset.map(lambda text, label: text), max_tokens)
    vectorizer = words.WordVectorizer(vocabulary, sequence_length)
    word_ids = len(vocabulary) + 2
    bigrams.check_word_ids(word_ids)
    batches = list(train_dataset.batch(1024).as_numpy_iterator())
    token_ids = np.concatenate([np.asarray(vectorizer(texts)) for texts, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    keys = bigrams.frequent_bigrams(word_ids, token_ids, MAX_BIGRAMS)
    features = bigrams.BigramFeatures(word_ids, keys)
    counts = presence_counts(np.asarray(features(token_ids)), labels, num_classes, features.features)
    return dict(vocabulary=vocabulary, bigrams=keys, log_count_ratios=log_count_ratios(counts))


def first_occurrences(token_ids):
    """1.0 where an id occurs for the first time in its text, else 0.0 (and on padding):
    summing over positions with these weights sums over the distinct ids of a text.

    It is exactly 0 or 1 in int8 TFLite too: only booleans before the last cast.
    """
    positions = keras.ops.cumsum(keras.ops.ones_like(token_ids), axis=1)
    earlier = keras.ops.less(keras.ops.expand_dims(positions, 1), keras.ops.expand_dims(positions, 2))
    same = keras.ops.equal(keras.ops.expand_dims(token_ids, 2), keras.ops.expand_dims(token_ids, 1))
    repeated = keras.ops.any(keras.ops.logical_and(same, earlier), axis=-1)
    first = keras.ops.logical_and(keras.ops.logical_not(repeated), vectorization.padding_mask(token_ids))
    return keras.ops.cast(first, "float32")


def _adapt(splits, max_tokens=None, sequence_length=None, **unused):
    """Builder arguments from the training split: the n-gram vocabulary and its log-count ratios."""
    return fit_nbsvm_inputs(
        splits.train, splits.num_classes, max_tokens or MAX_TOKENS, sequence_length or SEQUENCE_LENGTH
    )


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    adapt=_adapt,
    paper="Wang & Manning 2012, 'Baselines and Bigrams: Simple, Good Sentiment and Topic Classification'",
)
def nbsvm(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    bigrams=(),
    log_count_ratios=None,
    max_tokens=MAX_TOKENS,
    sequence_length=SEQUENCE_LENGTH,
):
    """Naive-Bayes-weighted linear model on binarized unigrams and bigrams (NBSVM).

    Args:
        num_classes: number of classes.
        input_shape: `()`: one string per example.
        vocabulary: words (from `fit_nbsvm_inputs`).
        bigrams: the bigram features' keys (from `fit_nbsvm_inputs`).
        log_count_ratios: float `(features, num_classes)` (from `fit_nbsvm_inputs`); None for 1
            (logistic regression).
        max_tokens: word vocabulary size, padding and out-of-vocabulary included.
        sequence_length: words per text.
    """
    token_ids = vectorization.token_input(sequence_length)
    ngrams = BigramFeatures(vectorization.vocabulary_size(vocabulary, max_tokens), bigrams, name="bigrams")
    feature_ids = ngrams(token_ids)
    size = ngrams.features
    ratios_layer = keras.layers.Embedding(
        size, num_classes, embeddings_initializer="ones", trainable=False, name="log_count_ratios"
    )
    ratios = ratios_layer(feature_ids)
    if log_count_ratios is not None:
        if np.shape(log_count_ratios) != (size, num_classes):
            raise ZooError(
                f"log_count_ratios must have shape (features, num_classes) = {(size, num_classes)}. "
                f"Received: {np.shape(log_count_ratios)}; compute them with fit_nbsvm_inputs."
            )
        ratios_layer.embeddings.assign(np.asarray(log_count_ratios, np.float32))
    feature_weights = keras.layers.Embedding(size, num_classes, embeddings_initializer="zeros", name="feature_weights")(
        feature_ids
    )
    weights = keras.ops.expand_dims(first_occurrences(feature_ids), -1)
    features = keras.ops.sum(ratios * feature_weights * weights, axis=1)
    logits = keras.layers.Dense(num_classes, kernel_initializer="identity", name="logits")(features)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")
    return vectorization.text_classifier("nbsvm", token_classifier, vocabulary, max_tokens, sequence_length)
