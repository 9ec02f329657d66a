"""A small Transformer encoder classifier: Vaswani et al. (2017), "Attention Is All
You Need", encoder blocks over token + learned position embeddings, mean-pooled.

The blocks are keras-hub's `TransformerEncoder` (post-norm, ReLU) rebuilt from
Keras layers with `zoo.text.attention`'s attention and layer normalization, which
keep the full-integer TFLite file as accurate as float32 and run it faster.
"""

import keras

from zoo.registry import register_model
from zoo.text import vectorization
from zoo.text.attention import BoundedMaskAttention, CenteredLayerNormalization

_RECIPE = vectorization.text_recipe(epochs=6, learning_rate=1e-3)
_EPSILON = 1e-5  # keras-hub's TransformerEncoder layer_norm_epsilon


def encoder_block(x, mask, num_heads, intermediate_dim, dropout, name):
    """One post-norm encoder block (Vaswani et al. 2017, section 3.1): self-attention
    over the unmasked positions, then a ReLU feed-forward network, each followed by
    dropout, a residual connection and layer normalization."""
    hidden_dim = x.shape[-1]
    attended = BoundedMaskAttention(num_heads, hidden_dim // num_heads, dropout=dropout, name=f"{name}_attention")(
        x, x, value_mask=mask
    )
    attended = keras.layers.Dropout(dropout, name=f"{name}_attention_dropout")(attended)
    x = keras.layers.Add(name=f"{name}_attention_residual")([x, attended])
    x = CenteredLayerNormalization(epsilon=_EPSILON, name=f"{name}_attention_norm")(x)
    hidden = keras.layers.Dense(intermediate_dim, activation="relu", name=f"{name}_intermediate")(x)
    hidden = keras.layers.Dense(hidden_dim, name=f"{name}_output")(hidden)
    hidden = keras.layers.Dropout(dropout, name=f"{name}_output_dropout")(hidden)
    x = keras.layers.Add(name=f"{name}_output_residual")([x, hidden])
    return CenteredLayerNormalization(epsilon=_EPSILON, name=f"{name}_output_norm")(x)


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
        x = encoder_block(x, mask, num_heads, intermediate_dim, dropout, name=f"encoder{i}")
    x = vectorization.masked_average(x, mask)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")
    return vectorization.text_classifier("transformer", token_classifier, vocabulary, max_tokens, sequence_length)
