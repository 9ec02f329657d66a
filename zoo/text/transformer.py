"""A small Transformer encoder classifier: Vaswani et al. (2017), "Attention Is All
You Need", encoder blocks over token + learned position embeddings, mean-pooled.
"""

import keras

from zoo.registry import register_model
from zoo.text import vectorization

_RECIPE = vectorization.text_recipe(epochs=6, learning_rate=1e-3)


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    paper="Vaswani et al. 2017, 'Attention Is All You Need'",
)
def transformer(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    max_tokens=vectorization.MAX_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    hidden_dim=64,
    num_layers=2,
    num_heads=2,
    intermediate_dim=128,
    dropout=0.1,
):
    """Token + position embeddings -> Transformer encoder blocks -> mean pool -> logits."""
    import keras_hub

    token_ids = vectorization.token_input(sequence_length)
    mask = vectorization.padding_mask(token_ids)
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=vectorization.vocabulary_size(vocabulary, max_tokens),
        sequence_length=sequence_length,
        embedding_dim=hidden_dim,
        name="embedding",
    )(token_ids)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = keras_hub.layers.TransformerEncoder(
            intermediate_dim, num_heads, dropout=dropout, name=f"encoder{i}"
        )(x, padding_mask=mask)
    x = vectorization.masked_average(x, mask)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")
    return vectorization.text_classifier(
        "transformer", token_classifier, vocabulary, max_tokens, sequence_length
    )
