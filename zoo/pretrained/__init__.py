"""Pretrained weights: `load_pretrained(name)`, their manifest, download and cache."""

from zoo.pretrained.download import cache_dir, fetch  # noqa: F401
from zoo.pretrained.loading import build_pretrained, load_pretrained, weights_path  # noqa: F401
from zoo.pretrained.manifest import list_pretrained, pretrained_info, read_manifest  # noqa: F401
