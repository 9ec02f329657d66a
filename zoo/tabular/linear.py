"""Linear and logistic regression on standardized numbers and one-hot categories."""

import keras
import numpy as np

from zoo.registry import register_model
from zoo.tabular import inputs

# Chosen on the validation splits (seeds 0 and 1) of diabetes (linear) and of
# breast_cancer, wine and iris (logistic). Linear: full batches from the
# least-squares start; batches of 32 add gradient noise that moves the
# coefficients of correlated features (diabetes' s1-s6) 15-40% off the
# least-squares ones, for the same R^2. Logistic: 300 full-batch epochs were a
# little better (validation log-loss 0.11 against 0.13 on average) but each
# epoch costs the apps a checkpoint; batches of 32 for 100 epochs do nearly as well.
_LINEAR_RECIPE = dict(
    epochs=100,
    batch_size=512,
    optimizer="adam",
    learning_rate=0.03,
    lr_schedule="cosine",
    weight_decay=0.0,
    label_smoothing=0.0,
    augment=False,
)
_LOGISTIC_RECIPE = dict(
    epochs=100,
    batch_size=32,
    optimizer="adamw",
    learning_rate=0.03,
    lr_schedule="cosine",
    weight_decay=0.1,
    label_smoothing=0.0,
    augment=False,
)


def least_squares_start(splits, **options):
    """`linear_regression`'s builder kwargs from a table's splits (the registry's `adapt`): the
    schema, and the least-squares solution on the training split as `initial_weights`.

    Gradient descent reaches that solution only slowly along correlated features
    (diabetes' condition number is about 500); started there, it stays.
    """
    schema = splits.extras["schema"]
    features, labels = splits.extras["arrays"]["train"]
    design = np.c_[inputs.design_matrix(features, schema), np.ones(len(labels))]
    target = (labels - schema["target_mean"]) / (np.sqrt(schema["target_variance"]) or 1.0)
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    return dict(schema=schema, initial_weights=[float(value) for value in solution])


@register_model(
    task=inputs.REGRESSION,
    input_shape=(4,),
    recipe=_LINEAR_RECIPE,
    paper="Legendre 1805 and Gauss 1809: the method of least squares",
    adapt=least_squares_start,
)
def linear_regression(num_classes=1, input_shape=(4,), schema=None, initial_weights=None):
    """Linear regression: one Dense unit on standardized numbers and one-hot categories (MSE).

    Args:
        num_classes: ignored: the output is one value, in the target's units.
        initial_weights: optional starting weights of the `standardized` layer, the
            kernel then the bias (`least_squares_start` gives the exact solution).
    """
    schema = inputs.model_schema("linear_regression", schema, num_classes, input_shape, inputs.REGRESSION)
    model_inputs, numbers, categories = inputs.table_inputs(schema)
    features = inputs.one_hot_features(numbers, categories, schema)
    model = keras.Model(model_inputs, inputs.head(features, schema), name="linear_regression")
    if initial_weights is not None:
        weights = np.asarray(initial_weights, np.float32)
        model.get_layer("standardized").set_weights([weights[:-1, None], weights[-1:]])
    return model


@register_model(
    task=inputs.CLASSIFICATION,
    input_shape=(4,),
    recipe=_LOGISTIC_RECIPE,
    paper="Cox 1958, 'The regression analysis of binary sequences' (multinomial: softmax over classes)",
    adapt=inputs.table_schema,
)
def logistic_regression(num_classes=2, input_shape=(4,), schema=None):
    """Logistic regression: logits from one Dense layer on standardized numbers and one-hot categories."""
    schema = inputs.model_schema(
        "logistic_regression",
        schema,
        num_classes,
        input_shape,
        inputs.CLASSIFICATION,
    )
    model_inputs, numbers, categories = inputs.table_inputs(schema)
    features = inputs.one_hot_features(numbers, categories, schema)
    return keras.Model(model_inputs, inputs.head(features, schema), name="logistic_regression")
