"""`two_tower`: a user tower and item embeddings trained with in-batch softmax and the log-q correction.

Yi et al. 2019, "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item Recommendations".
The model takes raw user ids (strings) and returns every item's score (`(batch, items)`, the
training split's item vocabulary in order); the item with the highest score is the recommendation.
"""

import keras
import numpy as np

from zoo.recommend.layers import ItemScores, id_lookup
from zoo.registry import register_model

TASK = "recommendation_retrieval"
# Chosen on MovieLens's validation split: embeddings of 64 at learning rate 3e-3 beat 32 at 1e-2
# (Recall@10 0.060 against 0.048); more epochs overfit.
RECIPE = dict(
    epochs=10,
    batch_size=1024,
    optimizer="adam",
    learning_rate=3e-3,
    lr_schedule="constant",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)


def retrieval_vocabularies(splits, **unused):
    """Builder kwargs from the training split: the vocabularies and each item's sampling probability."""
    extras = splits.extras
    counts = np.asarray(extras["item_counts"], np.float64)
    return dict(
        user_vocabulary=extras["user_vocabulary"],
        item_vocabulary=extras["item_vocabulary"],
        sampling_probability=(counts / counts.sum()).tolist(),
    )


@register_model(
    task=TASK,
    input_shape=(),
    recipe=RECIPE,
    paper="Yi et al. 2019 (two-tower, log-q correction)",
    adapt=retrieval_vocabularies,
)
def two_tower(
    num_classes=None,
    input_shape=(),
    user_vocabulary=("u0",),
    item_vocabulary=("i0",),
    sampling_probability=None,
    embedding_dim=64,
):
    """Two-tower retrieval: user id -> embedding, dot product with every item's embedding -> scores.

    Args:
        user_vocabulary, item_vocabulary: the training split's ids (items in output order).
        sampling_probability: each item's share of the training interactions (log-q correction).
        embedding_dim: the size of user and item embeddings.
    """
    user_id = keras.Input((), dtype="string", name="user_id")
    user_index = keras.Input((), dtype="int32", name="user_index")
    query = keras.layers.Embedding(len(user_vocabulary) + 1, embedding_dim, name="user_embedding")(user_index)
    item_scores = ItemScores(len(item_vocabulary), embedding_dim, name="item_scores")
    scorer = keras.Model(user_index, item_scores(query), name="scorer")
    if sampling_probability is not None:
        item_scores.sampling_probability.assign(np.asarray(sampling_probability, np.float32))
    index = id_lookup(user_vocabulary, "user_lookup")(user_id)
    scores = scorer(keras.ops.cast(index, "int32"))
    return keras.Model(user_id, scores, name="two_tower")
