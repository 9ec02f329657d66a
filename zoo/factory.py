"""`create_model`: a registered model with random or pretrained weights."""

from zoo.pretrained.loading import build_pretrained
from zoo.registry import build_model


def create_model(name, num_classes=None, input_shape=None, pretrained=False, **kwargs):
    """Builds an uncompiled `keras.Model` from raw inputs to the task's outputs (e.g. class logits).

    Args:
        name: a registered model name (see `list_models()`).
        num_classes: number of outputs (classes); default: the builder's own (10 for digit models).
        input_shape: input shape without batch dimension; defaults to the
            model's registered shape.
        pretrained: False (random init), True (the model's default pretrained
            entry), an entry name (`zoo.pretrained.list_pretrained()`), or a
            user's run folder or `.keras` file; `num_classes` and `input_shape`
            then default to the weights'. Another `num_classes` keeps the
            backbone and starts a fresh `logits` head. A text run keeps its
            vocabulary and sequence length (not for `bert`: use its `preset`).
        **kwargs: passed to the builder (e.g. `alpha` for `mobilenet_v2`).
    """
    if pretrained:
        return build_pretrained(name, pretrained, num_classes, input_shape, **kwargs)
    return build_model(name, num_classes=num_classes, input_shape=input_shape, **kwargs)
