"""Datasets: unbatched splits (`load_image_dataset`) and batched pipelines (`batched`)."""

from zoo.datasets.images import load_image_dataset  # noqa: F401
from zoo.datasets.splits import Splits, batched  # noqa: F401
from zoo.datasets.text import load_text_dataset  # noqa: F401
