"""Layers and the loss shared by the recommenders; keras-rs (Apache-2.0) supplies the retrieval pieces.

Every recommender is id lookups (`StringLookup`, the training split's vocabularies saved in the
model; index 0 is an unknown id) feeding an inner model named `scorer` that takes the indices, so
export runs `scorer` (builtin TFLite ops) and the sidecar maps ids to indices.
"""

import keras
from keras import ops

from zoo.errors import ZooError

try:  # optional: pip install -e ".[recommend]"; importing it registers FeatureCross for loading saved models
    import keras_rs
except ImportError:  # pragma: no cover (CI installs it)
    keras_rs = None

INSTALL_HINT = 'pip install "keras-rs>=0.4.0" (or pip install -e ".[recommend]")'


def require_keras_rs(model_name):
    if keras_rs is None:
        raise ZooError(f"{model_name} needs keras-rs: {INSTALL_HINT}.")
    return keras_rs


def id_lookup(vocabulary, name):
    """Raw string ids -> int32 indices: 1 + the id's place in `vocabulary`, 0 for an unknown id."""
    return keras.layers.StringLookup(vocabulary=list(vocabulary), output_mode="int", name=name)


@keras.saving.register_keras_serializable(package="zoo")
class ItemScores(keras.layers.Layer):
    """Scores of every item for a batch of query embeddings: `query @ item_embeddings^T`, `(batch, items)`.

    In training it subtracts the log of each item's sampling probability (its share of the training
    interactions; keras-rs `SamplingProbabilityCorrection`): the in-batch softmax sees items in
    proportion to their popularity as negatives, and the log-q correction (Yi et al. 2019) removes that bias.
    """

    def __init__(self, num_items, embedding_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_items, self.embedding_dim = int(num_items), int(embedding_dim)
        self.correction = require_keras_rs("two_tower").layers.SamplingProbabilityCorrection()

    def build(self, input_shape):
        self.item_embeddings = self.add_weight(
            shape=(self.num_items, self.embedding_dim), initializer="glorot_uniform", name="item_embeddings"
        )
        self.sampling_probability = self.add_weight(
            shape=(self.num_items,), initializer="ones", trainable=False, name="sampling_probability"
        )

    def call(self, query, training=False):
        scores = ops.matmul(query, ops.transpose(self.item_embeddings))
        if training:
            probability = ops.zeros_like(scores) + self.sampling_probability[None, :]
            scores = self.correction(scores, probability)
        return scores

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_items)

    def get_config(self):
        return {**super().get_config(), "num_items": self.num_items, "embedding_dim": self.embedding_dim}


@keras.saving.register_keras_serializable(package="zoo")
def in_batch_softmax(item_indices, scores):
    """In-batch softmax: each user's own item against the other items of the batch as negatives.

    `scores` are every item's (log-q corrected) scores; the batch's items are gathered from them, and
    an item that appears twice in a batch is not its own negative (keras-rs `RemoveAccidentalHits`).
    """
    item_indices = ops.cast(ops.reshape(item_indices, (-1,)), "int32")
    logits = ops.take(scores, item_indices, axis=1)  # (batch, batch): user i against item j
    labels = ops.eye(ops.shape(logits)[0], dtype=logits.dtype)
    logits = keras_rs.layers.RemoveAccidentalHits()(logits, labels, item_indices)
    return keras.losses.categorical_crossentropy(labels, logits, from_logits=True)
