"""Bag of embeddings: the average of word embeddings, then logits.

Iyyer et al. (2015), "Deep Unordered Composition Rivals Syntactic Methods for
Text Classification" (without hidden layers: the classic IMDB starter).
"""

import keras

from zoo.registry import register_model
from zoo.text import vectorization

_RECIPE = vectorization.text_recipe(epochs=4, learning_rate=2e-3)


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    paper="Iyyer et al. 2015, 'Deep Unordered Composition Rivals Syntactic Methods for Text Classification'",
)
def bag_of_embeddings(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    max_tokens=vectorization.MAX_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    embedding_dim=64,
    dropout=0.2,
):
    """Average of the word embeddings (padding excluded) -> logits."""
    token_ids = vectorization.token_input(sequence_length)
    x = keras.layers.Embedding(vectorization.vocabulary_size(vocabulary, max_tokens), embedding_dim, name="embedding")(
        token_ids
    )
    x = vectorization.masked_average(x, vectorization.padding_mask(token_ids))
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")
    return vectorization.text_classifier("bag_of_embeddings", token_classifier, vocabulary, max_tokens, sequence_length)
