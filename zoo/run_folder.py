"""The run folder: the one place that knows what a run writes and how to read it back.

runs/cnn_mnist_5k/
    config.json       run settings (model, task, dataset, seed, options, recipe), input shape,
                      class names, data digest, strategy, library versions
    labels.txt        class names in output order (classification)
    model.keras       the trained model
    metrics.json      what the task's evaluation measured
    history.csv       per-epoch training log; *.png plots; MODEL_CARD.md
    checkpoints/ logs/ export/ (report.json, files) run.lock
"""

import csv
import json
import pathlib
import zipfile

from zoo.errors import ZooError
from zoo.files import write_json, write_text

CONFIG, METRICS, LABELS, MODEL, HISTORY = "config.json", "metrics.json", "labels.txt", "model.keras", "history.csv"
CARD, CHECKPOINTS, LOGS, EXPORT, REPORT = "MODEL_CARD.md", "checkpoints", "logs", "export", "report.json"


class RunFolder:
    """A training run's folder (`--model_dir`): typed reads and atomic writes of its files."""

    def __init__(self, path):
        self.path = pathlib.Path(path).expanduser()

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    def file(self, name):
        return self.path / name

    @property
    def export_dir(self):
        return self.path / EXPORT

    @property
    def model_path(self):
        return self.path / MODEL

    def _read_json(self, path, what):
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise ZooError(f"{self.path} has no {path.name} ({what}): pass the --model_dir of a zoo run.") from None
        except (ValueError, OSError) as error:
            raise ZooError(f"{path} is unreadable ({error}): delete the run folder and train again.") from None

    def exists(self):
        return self.file(CONFIG).is_file()

    def is_finished(self):
        return self.file(METRICS).is_file() and self.model_path.is_file()

    def config(self):
        return self._read_json(self.file(CONFIG), "the run's settings")

    def run(self):
        """The run settings of config.json (`model`, `task`, `dataset`, `seed`, `options`, `recipe`, ...)."""
        return self.config()["run"]

    def metrics(self):
        return self._read_json(self.file(METRICS), "its metrics: the run has not finished")

    def report(self):
        """export/report.json, or None before the run is exported."""
        path = self.export_dir / REPORT
        return self._read_json(path, "an export report") if path.is_file() else None

    def require_finished(self):
        missing = [name for name in (CONFIG, METRICS, MODEL) if not self.file(name).is_file()]
        if missing:
            raise ZooError(
                f"{self.path} is not a finished zoo run (no {', '.join(missing)}): pass the --model_dir "
                "of a run trained with a zoo_apps app, or finish it by re-running its command."
            )
        return self

    def write_config(self, config):
        write_json(self.file(CONFIG), config)

    def write_metrics(self, metrics):
        write_json(self.file(METRICS), metrics)

    def write_report(self, report):
        write_json(self.export_dir / REPORT, report)

    def write_labels(self, class_names):
        write_text(self.file(LABELS), "".join(f"{name}\n" for name in class_names))

    def history(self):
        """history.csv as rows (dicts), keeping the last row of an epoch logged twice by a resume.

        Rows that cannot be parsed (a torn last line, a second header) are skipped.
        """
        path = self.file(HISTORY)
        if not path.is_file():
            return []
        rows = {}
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                try:
                    rows[int(row["epoch"])] = {k: float(v) for k, v in row.items() if k and v}
                except (TypeError, ValueError):
                    continue
        return [rows[epoch] for epoch in sorted(rows)]


def load_keras_file(path):
    """Loads a `.keras` file in safe mode; a missing, truncated or foreign file is a `ZooError`."""
    import keras

    path = pathlib.Path(path)
    if not path.is_file():
        raise ZooError(f"{path} does not exist: pass a run's --model_dir (holding model.keras) or a .keras file.")
    if not zipfile.is_zipfile(path):
        raise ZooError(
            f"{path} is not a Keras model file (empty, truncated or another format): train or export it again."
        )
    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError, zipfile.BadZipFile) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ZooError(f"{path} cannot be loaded as a Keras model ({first[:200]}): train it again.") from None
