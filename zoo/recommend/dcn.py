"""`dcn`: DCN-v2 ranking: user and item embeddings, two cross layers, a small MLP -> the predicted rating.

Wang et al. 2021, "DCN V2: Improved Deep & Cross Network and Practical Lessons for Web-scale
Learning to Rank Systems"; the cross layers are keras-rs's `FeatureCross`.
"""

import keras

from zoo.recommend.layers import id_lookup, require_keras_rs
from zoo.registry import register_model

TASK = "recommendation_ranking"
# Chosen on MovieLens's validation split (seed 0): its RMSE is lowest after epoch 3 (0.897), then it
# overfits (0.950 after 8); embeddings start near zero, so an id the training split lacks adds almost nothing.
RECIPE = dict(
    epochs=3,
    batch_size=256,
    optimizer="adam",
    learning_rate=1e-3,
    lr_schedule="constant",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)


def ranking_vocabularies(splits, **unused):
    """Builder kwargs from the training split: the vocabularies and the mean rating (the output's start)."""
    extras = splits.extras
    ratings = extras["interactions"]["train"]["rating"]
    return dict(
        user_vocabulary=extras["user_vocabulary"],
        item_vocabulary=extras["item_vocabulary"],
        mean_rating=float(ratings.mean()),
    )


@register_model(task=TASK, input_shape=(), recipe=RECIPE, paper="Wang et al. 2021 (DCN-v2)", adapt=ranking_vocabularies)
def dcn(
    num_classes=1,
    input_shape=(),
    user_vocabulary=("u0",),
    item_vocabulary=("i0",),
    mean_rating=0.0,
    embedding_dim=32,
    cross_layers=2,
    units=(64,),
    biases=True,
):
    """DCN-v2 on user and item embeddings: `[user, item]` -> cross layers -> Dense -> `prediction`.

    Args:
        user_vocabulary, item_vocabulary: the training split's ids.
        mean_rating: the training ratings' mean, the output bias's start.
        embedding_dim: the size of user and item embeddings.
        cross_layers: how many `FeatureCross` layers.
        units: the widths of the Dense layers after them.
        biases: add a learned bias per user and per item (zero for an unknown id) to the output.
    """
    keras_rs = require_keras_rs("dcn")
    user_index = keras.Input((), dtype="int32", name="user_index")
    item_index = keras.Input((), dtype="int32", name="item_index")
    small = keras.initializers.RandomNormal(stddev=0.01)  # an unknown id's row is never trained: near zero
    users = keras.layers.Embedding(len(user_vocabulary) + 1, embedding_dim, small, name="user_embedding")(user_index)
    items = keras.layers.Embedding(len(item_vocabulary) + 1, embedding_dim, small, name="item_embedding")(item_index)
    x0 = keras.layers.Concatenate(name="features")([users, items])
    x = x0
    for layer in range(cross_layers):
        x = keras_rs.layers.FeatureCross(name=f"cross{layer + 1}")(x0, x)
    for layer, width in enumerate(units, start=1):
        x = keras.layers.Dense(width, activation="relu", name=f"dense{layer}")(x)
    bias = keras.initializers.Constant(mean_rating)
    prediction = keras.layers.Dense(1, bias_initializer=bias, name="interaction" if biases else "prediction")(x)
    if biases:
        terms = [
            keras.layers.Embedding(len(vocabulary) + 1, 1, "zeros", name=f"{name}_bias")(index)
            for name, vocabulary, index in (
                ("user", user_vocabulary, user_index),
                ("item", item_vocabulary, item_index),
            )
        ]
        prediction = keras.layers.Add(name="prediction")([prediction, *terms])
    scorer = keras.Model([user_index, item_index], prediction, name="scorer")
    user_id = keras.Input((), dtype="string", name="user_id")
    item_id = keras.Input((), dtype="string", name="item_id")
    indices = [
        keras.ops.cast(id_lookup(user_vocabulary, "user_lookup")(user_id), "int32"),
        keras.ops.cast(id_lookup(item_vocabulary, "item_lookup")(item_id), "int32"),
    ]
    return keras.Model([user_id, item_id], scorer(indices), name="dcn")
