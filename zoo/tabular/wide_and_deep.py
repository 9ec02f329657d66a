"""Wide & Deep: a linear model on raw and crossed categories beside an MLP on embeddings.

Cheng et al. 2016, "Wide & Deep Learning for Recommender Systems". The wide part
is linear on the standardized numbers, the one-hot categories and every pair of
categories crossed; the deep part an MLP on the numbers and category embeddings;
the two scores add up. Crosses use integer arithmetic only (`a * size_b + b`,
modulo `cross_buckets` when there are more combinations), which TFLite runs
with builtin MUL, ADD and FLOOR_MOD.
"""

import itertools

import keras

from zoo.registry import register_model
from zoo.tabular import inputs
from zoo.tabular.mlp import dense_blocks

# Chosen on the validation splits (seeds 0 and 1) of diabetes, breast_cancer, wine
# and iris, with dropout 0.3 (diabetes R^2 0.48 against 0.46 with 0.1).
_RECIPE = dict(
    epochs=100,
    batch_size=32,
    optimizer="adamw",
    learning_rate=3e-3,
    lr_schedule="cosine",
    weight_decay=0.01,
    label_smoothing=0.0,
    augment=False,
)


@keras.saving.register_keras_serializable(package="zoo")
class CrossCategories(keras.layers.Layer):
    """The index of a pair of categories, `a * size_b + b`, modulo `buckets` if that can reach it."""

    def __init__(self, size_a, size_b, buckets, **kwargs):
        super().__init__(**kwargs)
        self.size_a, self.size_b, self.buckets = int(size_a), int(size_b), int(buckets)

    @property
    def size(self):
        """The number of distinct crossed indices."""
        return min(self.size_a * self.size_b, self.buckets)

    def call(self, columns):
        a, b = columns
        crossed = a * self.size_b + b
        return crossed % self.buckets if self.size_a * self.size_b > self.buckets else crossed

    def get_config(self):
        return {**super().get_config(), "size_a": self.size_a, "size_b": self.size_b, "buckets": self.buckets}


def _wide(numbers, categories, schema, cross_buckets):
    """Linear scores on the numbers, the one-hot categories and the crossed pairs."""
    units = inputs.output_units(schema)
    one_hot = inputs.one_hot_features(numbers, categories, schema)
    parts = [keras.layers.Dense(units, name="wide_linear")(one_hot)]
    sizes = inputs.vocabulary_sizes(schema)
    for i, j in itertools.combinations(range(len(categories)), 2):
        cross = CrossCategories(sizes[i], sizes[j], cross_buckets, name=f"cross_{i}_{j}")
        # An embedding of `units` is a linear layer on the one-hot cross, without the one-hot.
        weights = keras.layers.Embedding(
            cross.size,
            units,
            embeddings_initializer="zeros",
            name=f"wide_cross_{i}_{j}",
        )
        parts.append(weights(cross([categories[i], categories[j]])))
    return parts[0] if len(parts) == 1 else keras.layers.Add(name="wide")(parts)


@register_model(
    task=(inputs.REGRESSION, inputs.CLASSIFICATION),
    input_shape=(4,),
    recipe=_RECIPE,
    paper="Cheng et al. 2016, 'Wide & Deep Learning for Recommender Systems'",
    adapt=inputs.table_schema,
)
def wide_and_deep(
    num_classes=2,
    input_shape=(4,),
    schema=None,
    units=(64, 32),
    dropout=0.3,
    normalization="batch",
    embedding_dim=8,
    cross_buckets=1000,
):
    """Wide & Deep: a linear part on raw and crossed categories plus an MLP on embeddings and numbers.

    Args:
        units, dropout, normalization: the deep part's hidden layers (see `mlp`).
        embedding_dim: the largest embedding size of a category column.
        cross_buckets: the most indices of one crossed pair (larger crosses are folded modulo it).
    """
    schema = inputs.model_schema("wide_and_deep", schema, num_classes, input_shape)
    model_inputs, numbers, categories = inputs.table_inputs(schema)
    wide = _wide(numbers, categories, schema, cross_buckets)
    deep = inputs.embedded_features(numbers, categories, schema, embedding_dim)
    deep = dense_blocks(deep, units, dropout, normalization, prefix="deep")
    deep = keras.layers.Dense(inputs.output_units(schema), name="deep_scores")(deep)
    return keras.Model(model_inputs, inputs.sum_head([wide, deep], schema), name="wide_and_deep")
