"""Masked-LM token masking that is the same on every run: BERT's 15% / 80-10-10 rule, drawn statelessly.

keras-hub's `MaskedLMMaskGenerator` draws with tf_text's stateful random ops, which the
parallel iterations of its `map_fn` (and of the tf.data map) reach in varying order, so
two runs with one seed mask differently. Here every draw is a stateless one seeded by
the batch's own token ids: a batch always gets the same masks, while the seeded reshuffle
gives each epoch other batches, hence other masks (dynamic masking, as in RoBERTa).
"""

import keras
import keras_hub
import tensorflow as tf
from keras_hub.src.utils.tensor_utils import preprocessing_function

_PRIME = 1_000_003  # weights the token ids by position in the batch's seed


def batch_seed(token_ids):
    """A stateless-RNG seed `(2,)` from the int token ids `(batch, length)`: it changes when any id moves."""
    ids = tf.cast(token_ids, tf.int64)
    positions = tf.reshape(tf.range(tf.size(ids, out_type=tf.int64)), tf.shape(ids))
    return tf.stack(
        [tf.reduce_sum(ids * (positions * _PRIME + 1)) % 2**31, tf.reduce_sum(ids * (positions + 7)) % 2**31]
    )


@keras.saving.register_keras_serializable(package="zoo")
class SeededMaskGenerator(keras_hub.layers.MaskedLMMaskGenerator):
    """`MaskedLMMaskGenerator` (same options and outputs) for dense batches and a set
    `mask_selection_length`, with stateless draws.

    This is its TensorFlow path, which tf.data pipelines (training, evaluation) take; an
    eager call keeps keras-hub's Python path, seeded by Python's `random`.
    """

    @preprocessing_function
    def _call_tf(self, inputs):
        token_ids = tf.convert_to_tensor(inputs)
        shape = tf.shape(token_ids)
        seeds = tf.random.experimental.stateless_split(batch_seed(token_ids), 3)
        selectable = tf.reduce_all(
            token_ids[..., None] != tf.constant(self.unselectable_token_ids, token_ids.dtype), -1
        )
        # Each text's `rate` of selectable tokens (at most `mask_selection_length`), chosen uniformly.
        count = tf.math.ceil(tf.reduce_sum(tf.cast(selectable, tf.float32), 1) * self.mask_selection_rate)
        count = tf.minimum(tf.cast(count, tf.int32), self.mask_selection_length)
        scores = tf.where(selectable, tf.random.stateless_uniform(shape, seeds[0]), 2.0)
        rank = tf.argsort(tf.argsort(scores, axis=1, stable=True), axis=1, stable=True)
        chosen = rank < count[:, None]
        # Chosen tokens become [MASK] (mask_token_rate), a random token (random_token_rate), or stay.
        draw = tf.random.stateless_uniform(shape, seeds[1])
        random_ids = tf.random.stateless_uniform(shape, seeds[2], 0, self.vocabulary_size, token_ids.dtype)
        replaced = tf.where(draw < self.mask_token_rate, tf.cast(self.mask_token_id, token_ids.dtype), token_ids)
        replaced = tf.where(
            (draw >= self.mask_token_rate) & (draw < self.mask_token_rate + self.random_token_rate),
            random_ids,
            replaced,
        )
        # The chosen positions in order, padded with position 0 and weight 0 to mask_selection_length.
        length = shape[1]
        positions = tf.sort(tf.where(chosen, tf.range(length)[None, :], length), axis=1)[
            :, : self.mask_selection_length
        ]
        positions = tf.pad(
            positions, [[0, 0], [0, self.mask_selection_length - tf.shape(positions)[1]]], constant_values=length
        )
        real = positions < length
        positions = tf.where(real, positions, 0)
        return {
            "token_ids": tf.where(chosen, replaced, token_ids),
            "mask_positions": tf.cast(positions, "int64"),
            "mask_ids": tf.where(real, tf.gather(token_ids, positions, batch_dims=1), 0),
            "mask_weights": tf.cast(real, self.compute_dtype),
        }


@keras.saving.register_keras_serializable(package="zoo")
class SeededBertMaskedLMPreprocessor(keras_hub.models.BertMaskedLMPreprocessor):
    """keras-hub's `BertMaskedLMPreprocessor` with `SeededMaskGenerator` as its masker."""

    def build(self, input_shape):
        super().build(input_shape)
        self.masker = SeededMaskGenerator(**self.masker.get_config())
