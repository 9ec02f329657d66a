"""English -> Chinese translation models (task `translation`): a small Transformer and a GRU with attention.

Both build an encoder-decoder network on token ids, `{source_ids, target_ids}` -> next-token logits,
wrapped in a `zoo.text.seq2seq.Translator` with the vocabularies of the training split.
"""

import keras

from zoo.registry import register_model
from zoo.text.seq2seq import MAX_TOKENS, SEQUENCE_LENGTH, SPECIAL_TOKENS, Translator


def _recipe(epochs, learning_rate, batch_size=64):
    return dict(
        epochs=epochs,
        batch_size=batch_size,
        optimizer="adamw",
        learning_rate=learning_rate,
        lr_schedule="cosine",
        weight_decay=1e-2,
        label_smoothing=0.0,
        augment=False,
    )


def _vocabularies(source_vocabulary, target_vocabulary, max_tokens):
    """The vocabularies the run learned, or placeholders of `max_tokens` entries (a model built without data)."""
    placeholder = lambda: SPECIAL_TOKENS + [f"[{index}]" for index in range(len(SPECIAL_TOKENS), max_tokens)]
    return list(source_vocabulary or placeholder()), list(target_vocabulary or placeholder())


def _token_inputs(sequence_length):
    """Token ids of any length up to `sequence_length` (training batches are cut to their longest sentence)."""
    source = keras.Input((None,), dtype="int32", name="source_ids")
    target = keras.Input((None,), dtype="int32", name="target_ids")
    return source, target


@register_model(
    task="translation",
    input_shape=(),
    recipe=_recipe(epochs=10, learning_rate=1e-3),
    paper="Vaswani et al. 2017, 'Attention Is All You Need'",
    exportable=True,
    from_runs=False,
)
def transformer_seq2seq(
    input_shape=(),
    source_vocabulary=None,
    target_vocabulary=None,
    max_tokens=MAX_TOKENS,
    sequence_length=SEQUENCE_LENGTH,
    num_beams=1,
    hidden_dim=128,
    num_layers=2,
    num_heads=4,
    intermediate_dim=512,
    dropout=0.1,
):
    """Transformer encoder-decoder (keras-hub blocks, learned positions), WordPiece in, characters out."""
    import keras_hub

    source_vocabulary, target_vocabulary = _vocabularies(source_vocabulary, target_vocabulary, max_tokens)
    source, target = _token_inputs(sequence_length)

    def embed(ids, vocabulary, name):
        return keras_hub.layers.TokenAndPositionEmbedding(len(vocabulary), sequence_length, hidden_dim, name=name)(ids)

    source_mask, target_mask = keras.ops.not_equal(source, 0), keras.ops.not_equal(target, 0)  # False on padding
    x = embed(source, source_vocabulary, "source_embedding")
    for index in range(num_layers):
        encoder = keras_hub.layers.TransformerEncoder(intermediate_dim, num_heads, dropout, name=f"encoder{index}")
        x = encoder(x, padding_mask=source_mask)
    y = embed(target, target_vocabulary, "target_embedding")
    for index in range(num_layers):
        decoder = keras_hub.layers.TransformerDecoder(intermediate_dim, num_heads, dropout, name=f"decoder{index}")
        y = decoder(y, x, decoder_padding_mask=target_mask, encoder_padding_mask=source_mask)
    y = keras.layers.Dropout(dropout, name="dropout")(y)
    logits = keras.layers.Dense(len(target_vocabulary), name="logits")(y)
    network = keras.Model(dict(source_ids=source, target_ids=target), logits, name="network")
    return Translator(network, source_vocabulary, target_vocabulary, sequence_length, num_beams, name="translator")


@register_model(
    task="translation",
    input_shape=(),
    recipe=_recipe(epochs=6, learning_rate=2e-3),
    paper="Bahdanau et al. 2015, 'Neural Machine Translation by Jointly Learning to Align and Translate'",
    exportable=True,
    from_runs=False,
)
def gru_attention(
    input_shape=(),
    source_vocabulary=None,
    target_vocabulary=None,
    max_tokens=MAX_TOKENS,
    sequence_length=SEQUENCE_LENGTH,
    num_beams=1,
    embedding_dim=128,
    units=256,
    dropout=0.1,
):
    """Bidirectional GRU encoder, GRU decoder with additive (Bahdanau) attention over the source."""
    source_vocabulary, target_vocabulary = _vocabularies(source_vocabulary, target_vocabulary, max_tokens)
    source, target = _token_inputs(sequence_length)
    x = keras.layers.Embedding(len(source_vocabulary), embedding_dim, mask_zero=True, name="source_embedding")(source)
    encoder = keras.layers.Bidirectional(
        keras.layers.GRU(units // 2, return_sequences=True, return_state=True), name="encoder"
    )
    encoded, forward, backward = encoder(x)
    state = keras.layers.Concatenate(name="encoder_state")([forward, backward])
    y = keras.layers.Embedding(len(target_vocabulary), embedding_dim, mask_zero=True, name="target_embedding")(target)
    decoded = keras.layers.GRU(units, return_sequences=True, name="decoder")(y, initial_state=state)
    # Each decoder state queries the encoder's states with an additive score, v . tanh(W q + U k).
    query = keras.layers.Dense(units, use_bias=False, name="attention_query")(decoded)
    key = keras.layers.Dense(units, use_bias=False, name="attention_key")(encoded)
    context = keras.layers.AdditiveAttention(name="attention")([query, encoded, key])
    y = keras.layers.Concatenate(name="decoder_and_context")([decoded, context])
    y = keras.layers.Dense(units, activation="tanh", name="attentional")(y)
    y = keras.layers.Dropout(dropout, name="dropout")(y)
    logits = keras.layers.Dense(len(target_vocabulary), name="logits")(y)
    network = keras.Model(dict(source_ids=source, target_ids=target), logits, name="network")
    return Translator(network, source_vocabulary, target_vocabulary, sequence_length, num_beams, name="translator")
