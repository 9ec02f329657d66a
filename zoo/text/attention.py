"""Layers of a Transformer encoder block (Vaswani et al. 2017, "Attention Is All
You Need") that keep a full-integer (int8) TFLite file accurate and fast.

Attention: Keras masks attention scores by filling padded keys with -1e9 before the softmax.
An int8 TFLite file calibrates one scale per tensor, so that fill stretches the
scores' range to 1e9 (a scale of about 4e6): every real score rounds to the same
int8 value and attention becomes a plain average. A fill of -30 keeps the range
near the real scores' own, and exp(-30) (about 1e-13) still gives padded keys no
weight in float32.

Layer normalization: Keras computes the variance with a SQUARED_DIFFERENCE op,
which XNNPACK does not run in int8; the slow builtin kernel then takes a third of
a small model's int8 latency and splits its graph. Subtracting the mean first
and squaring with a multiplication runs in XNNPACK.
"""

import keras

# Masked scores are set to this value; see the module docstring.
MASK_FILL = -30.0


@keras.saving.register_keras_serializable(package="zoo")
class BoundedMaskAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` that sets masked attention scores to
    `mask_fill` (default -30) instead of -1e9, so that they quantize well.

    Masked keys get a softmax weight below exp(mask_fill - max score); padded
    keys are ignored exactly as with Keras's fill for any realistic scores.

    Args:
        mask_fill: the score of masked positions before the softmax.
        **kwargs: as for `keras.layers.MultiHeadAttention`.
    """

    def __init__(self, *args, mask_fill=MASK_FILL, **kwargs):
        super().__init__(*args, **kwargs)
        self.mask_fill = mask_fill

    def _masked_softmax(self, attention_scores, attention_mask=None):
        if attention_mask is not None:
            # Scores are (batch, heads, queries, keys); masks (batch, [queries,] keys).
            for _ in range(len(attention_scores.shape) - len(attention_mask.shape)):
                attention_mask = keras.ops.expand_dims(attention_mask, -2 * len(self.attention_axes) - 1)
            fill = keras.ops.cast(self.mask_fill, attention_scores.dtype)
            attention_scores = keras.ops.where(attention_mask, attention_scores, fill)
        return self._softmax(attention_scores)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, **kwargs):
        # Without dropout Keras calls `ops.dot_product_attention`, which fills
        # masked scores with -0.7 times the largest float32; asking for the scores
        # keeps it on the explicit path, which calls `_masked_softmax` above.
        return super()._compute_attention(
            query, key, value, attention_mask, training, return_attention_scores=True, **kwargs
        )

    def get_config(self):
        return {**super().get_config(), "mask_fill": self.mask_fill}


@keras.saving.register_keras_serializable(package="zoo")
class CenteredLayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` (Ba et al. 2016, "Layer Normalization") that
    centers its inputs before computing their variance: the same function and
    weights, computed with ops that XNNPACK runs in int8 (see the module docstring).
    Normalizes over the last axis only."""

    def __init__(self, axis=-1, **kwargs):
        if axis not in (-1, [-1]):
            raise ValueError(f"CenteredLayerNormalization normalizes the last axis only. Received: {axis=}")
        super().__init__(axis=-1, **kwargs)

    def call(self, inputs):
        x = keras.ops.cast(inputs, "float32")  # as Keras: at least float32 under mixed precision
        centered = x - keras.ops.mean(x, axis=-1, keepdims=True)
        variance = keras.ops.mean(centered * centered, axis=-1, keepdims=True)
        outputs = centered * keras.ops.rsqrt(variance + self.epsilon)
        if self.scale:
            outputs = outputs * keras.ops.cast(self.gamma, "float32")
        if self.center:
            outputs = outputs + keras.ops.cast(self.beta, "float32")
        return keras.ops.cast(outputs, self.compute_dtype)
