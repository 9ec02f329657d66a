"""export: trained zoo models to verified SavedModel and TFLite files; Predictor and Generator run them."""

import zoo  # noqa: F401, I001  (first: a command line's native start-up logs go to a file, see zoo.quiet)
from export.convert import FLAVOURS, to_saved_model, to_tflite  # noqa: F401
from export.generator import Generator  # noqa: F401
from export.operators import operator_names  # noqa: F401
from export.predictor import Predictor  # noqa: F401
from export.run import FORMATS, export_run  # noqa: F401
