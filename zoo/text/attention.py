"""Layers of a Transformer encoder block (Vaswani et al. 2017, "Attention Is All
You Need") that keep a full-integer (int8) TFLite file accurate and fast.

Attention: Keras masks attention scores by setting those of padded keys to -1e9
before the softmax. An int8 TFLite file calibrates one scale per tensor, so that
fill stretches the scores' range to 1e9 (a scale of about 4e6): every real score
rounds to the same int8 value and attention becomes a plain average. A fill of
-30 keeps the range near the real scores' own (a scale of about 0.15), and
exp(-30) (about 1e-13) still gives padded keys no weight in float32: in the
`transformer` trained on movie reviews, each query's largest score over its real
keys was above -3, so padded keys got less than 1e-10 of its attention.

Layer normalization: Keras computes the variance with a SQUARED_DIFFERENCE op,
which XNNPACK does not run in int8; in the `transformer`, its slow builtin kernel
took about a quarter of the int8 latency and split the graph. Subtracting the
mean first and squaring with a multiplication runs in XNNPACK.
"""

import keras

# Masked scores are set to this value; see the module docstring.
MASK_FILL = -30.0


@keras.saving.register_keras_serializable(package="zoo")
class BoundedMaskSoftmax(keras.layers.Softmax):
    """`keras.layers.Softmax` that sets masked inputs to `mask_fill` (default -30)
    instead of -1e9, so that they quantize well (see the module docstring)."""

    def __init__(self, axis=-1, mask_fill=MASK_FILL, **kwargs):
        super().__init__(axis=axis, **kwargs)
        self.mask_fill = mask_fill

    def call(self, inputs, mask=None):
        if mask is not None:
            fill = keras.ops.cast(self.mask_fill, inputs.dtype)
            inputs = keras.ops.where(keras.ops.cast(mask, "bool"), inputs, fill)
        return super().call(inputs)

    def get_config(self):
        return {**super().get_config(), "mask_fill": self.mask_fill}


def bound_mask_fill(attention_layer, mask_fill=MASK_FILL):
    """Makes a built `keras.layers.MultiHeadAttention` fill masked scores with
    `mask_fill`, by replacing its softmax.

    Keras applies that softmax on its explicit path only, taken with dropout or
    when the scores are asked for; without dropout it calls
    `ops.dot_product_attention`, which fills with -0.7 times the largest float32.
    """
    softmax = BoundedMaskSoftmax(
        axis=attention_layer._softmax.axis, mask_fill=mask_fill, dtype=attention_layer.dtype_policy
    )
    # Keras refuses new sub-layers once a layer is built; a softmax holds no state to track.
    object.__setattr__(attention_layer, "_softmax", softmax)


@keras.saving.register_keras_serializable(package="zoo")
class BoundedMaskAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` that sets masked attention scores to
    `mask_fill` (default -30) instead of -1e9, so that they quantize well.

    Each masked key gets exp(mask_fill - largest score) times the largest weight:
    below float32's resolution (1e-7) while the largest score is above mask_fill + 16.

    Args:
        mask_fill: the score of masked positions before the softmax.
        **kwargs: as for `keras.layers.MultiHeadAttention`.
    """

    def __init__(self, *args, mask_fill=MASK_FILL, **kwargs):
        super().__init__(*args, **kwargs)
        self.mask_fill = mask_fill

    def _build_attention(self, rank):
        super()._build_attention(rank)
        bound_mask_fill(self, self.mask_fill)

    def _compute_attention(
        self, query, key, value, attention_mask=None, training=None, return_attention_scores=False, **kwargs
    ):
        # Asking for the scores keeps Keras on its explicit path even without
        # dropout (see `bound_mask_fill`); `call` returns them only if asked.
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
            outputs = outputs * self.gamma
        if self.center:
            outputs = outputs + self.beta
        return keras.ops.cast(outputs, self.compute_dtype)
