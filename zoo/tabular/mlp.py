"""A multilayer perceptron for tables: Gorishniy et al. 2021's MLP baseline."""

import keras

from zoo.registry import register_model
from zoo.tabular import inputs

# Chosen on the validation splits (seeds 0 and 1) of diabetes, breast_cancer, wine
# and iris: learning rate 1e-3 and dropout 0.3 overfit diabetes least (R^2 0.49
# against 0.42 at 3e-3); layer normalization did worse than batch normalization.
_RECIPE = dict(
    epochs=100,
    batch_size=32,
    optimizer="adamw",
    learning_rate=1e-3,
    lr_schedule="cosine",
    weight_decay=0.01,
    label_smoothing=0.0,
    augment=False,
)
NORMALIZATIONS = ("batch", "layer", None)


def dense_blocks(x, units, dropout, normalization, prefix):
    """`Dense -> normalization -> ReLU -> Dropout` for each width in `units`."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}. Received: {normalization!r}")
    for i, width in enumerate(units, start=1):
        x = keras.layers.Dense(width, use_bias=normalization is None, name=f"{prefix}_dense{i}")(x)
        if normalization == "batch":
            x = keras.layers.BatchNormalization(name=f"{prefix}_batch_norm{i}")(x)
        elif normalization == "layer":
            x = keras.layers.LayerNormalization(name=f"{prefix}_layer_norm{i}")(x)
        x = keras.layers.ReLU(name=f"{prefix}_relu{i}")(x)
        x = keras.layers.Dropout(dropout, name=f"{prefix}_dropout{i}")(x)
    return x


@register_model(
    task=(inputs.REGRESSION, inputs.CLASSIFICATION),
    input_shape=(4,),
    recipe=_RECIPE,
    paper="Gorishniy et al. 2021, 'Revisiting Deep Learning Models for Tabular Data' (MLP)",
    adapt=inputs.table_schema,
)
def mlp(
    num_classes=2,
    input_shape=(4,),
    schema=None,
    units=(128, 64),
    dropout=0.3,
    normalization="batch",
    embedding_dim=8,
):
    """Multilayer perceptron: Dense, normalization, ReLU and dropout blocks on numbers and embeddings.

    Args:
        units: the width of each hidden layer.
        dropout: dropout rate after each hidden layer.
        normalization: "batch", "layer" or None, after each hidden Dense layer.
        embedding_dim: the largest embedding size of a category column.
    """
    schema = inputs.model_schema("mlp", schema, num_classes, input_shape)
    model_inputs, numbers, categories = inputs.table_inputs(schema)
    x = inputs.embedded_features(numbers, categories, schema, embedding_dim)
    x = dense_blocks(x, units, dropout, normalization, prefix="hidden")
    return keras.Model(model_inputs, inputs.head(x, schema), name="mlp")
