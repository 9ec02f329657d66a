"""Bidirectional LSTM classifier: Graves & Schmidhuber (2005), "Framewise phoneme
classification with bidirectional LSTM", as a sentence classifier.

The sequence length is fixed and the LSTMs are unrolled, so TFLite converts
them with builtin ops only (no Flex, tensorflow/tensorflow#58668).
"""

import keras

from zoo.registry import register_model
from zoo.text import vectorization

_RECIPE = vectorization.text_recipe(epochs=4, learning_rate=2e-3)


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    paper="Graves & Schmidhuber 2005, 'Framewise phoneme classification with "
    "bidirectional LSTM and other neural network architectures'",
)
def bilstm(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    max_tokens=vectorization.MAX_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    embedding_dim=128,
    units=64,
    dropout=0.5,
):
    """Embeddings -> bidirectional LSTM (padding masked) -> logits."""
    token_ids = vectorization.token_input(sequence_length)
    x = keras.layers.Embedding(
        vectorization.vocabulary_size(vocabulary, max_tokens),
        embedding_dim,
        mask_zero=True,
        name="embedding",
    )(token_ids)
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, unroll=True), name="bidirectional_lstm")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")
    return vectorization.text_classifier("bilstm", token_classifier, vocabulary, max_tokens, sequence_length)
