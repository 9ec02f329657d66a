"""TextCNN: Kim (2014), "Convolutional Neural Networks for Sentence Classification".

CNN-rand: randomly initialized word embeddings, filter widths 3/4/5 with 100
feature maps each, max-over-time pooling, dropout 0.5, then logits.
"""

import keras

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.text import vectorization

# Chosen on MR's validation split (scripts/benchmark_text.py): it overfits after 3 epochs.
_RECIPE = vectorization.text_recipe(epochs=3, learning_rate=2e-3)


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    paper="Kim 2014, 'Convolutional Neural Networks for Sentence Classification'",
)
def textcnn(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    max_tokens=vectorization.MAX_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    embedding_dim=128,
    filter_widths=(3, 4, 5),
    filters=100,
    dropout=0.5,
):
    """Kim's sentence CNN: embeddings -> conv 3/4/5 x 100 -> max over time -> logits."""
    if sequence_length < max(filter_widths):
        raise ZooError(
            f"textcnn needs sequence_length >= its widest filter ({max(filter_widths)}). "
            f"Received: sequence_length={sequence_length}"
        )
    token_ids = vectorization.token_input(sequence_length)
    x = keras.layers.Embedding(vectorization.vocabulary_size(vocabulary, max_tokens), embedding_dim, name="embedding")(
        token_ids
    )
    pooled = []
    for width in filter_widths:
        feature_maps = keras.layers.Conv1D(filters, width, activation="relu", name=f"conv{width}")(x)
        pooled.append(keras.layers.GlobalMaxPooling1D(name=f"max_pool{width}")(feature_maps))
    x = keras.layers.Concatenate(name="features")(pooled)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")
    return vectorization.text_classifier("textcnn", token_classifier, vocabulary, max_tokens, sequence_length)
