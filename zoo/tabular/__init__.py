"""Tabular models; importing this module registers them.

Each takes `{"numeric": float32 (n,), "categorical": int32 (m,)}` features (the
keys the table has, see `zoo.datasets.tables`) and a schema, and returns class
logits or, for regression, one value in the target's units (`zoo.tabular.inputs`).
"""

from zoo.tabular import linear, mlp, wide_and_deep  # noqa: F401
