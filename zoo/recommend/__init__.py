"""Recommendation models: `two_tower` retrieval and `dcn` ranking over user and item ids."""

from zoo.recommend import dcn, two_tower  # noqa: F401  (importing registers the models)
