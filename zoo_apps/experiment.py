"""One training run in one folder: config, checkpoints, model, metrics, plots."""

import json
import os
import pathlib
import platform

import keras
import numpy as np
import tensorflow as tf
from absl import logging

import export
import zoo
from zoo.files import write_json, write_text
from zoo_apps import distribute, model_card, report, trainer


def library_versions():
    import sklearn

    return dict(
        zoo=zoo.__version__, tensorflow=tf.__version__, keras=keras.__version__,
        numpy=np.__version__, scikit_learn=sklearn.__version__,
        python=platform.python_version(),
    )


def make_deterministic(seed):
    """Seeds Python, NumPy and TensorFlow, and makes TensorFlow's ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def default_model_dir(model, dataset):
    """`runs/<model>_<dataset>`, with the dataset's `:` and `/` made `_`."""
    return os.path.join("runs", f"{model}_{dataset.replace(':', '_').replace('/', '_')}")


def weights_checksum(model):
    """A number that differs between workers whose weights are out of sync."""
    return float(sum(np.abs(w).sum(dtype=np.float64) for w in model.get_weights()))


def prepare_model_dir(model_dir, config):
    """Creates `model_dir` with config.json, or checks that it holds the same run.

    Returns True if the run there has already finished.
    """
    model_dir = pathlib.Path(model_dir)
    config_path = model_dir / "config.json"
    if config_path.exists():
        previous = json.loads(config_path.read_text()).get("run", {})
        # A setting missing from an older config.json counts as unset (None).
        changed = sorted(k for k in set(previous) | set(config["run"]) if previous.get(k) != config["run"].get(k))
        if changed:
            raise zoo.ZooError(
                f"{model_dir} holds a run with other settings ({', '.join(changed)} differ): "
                "pass a new --model_dir, or delete that folder to start over."
            )
        return (model_dir / "metrics.json").exists()
    elif model_dir.exists() and any(model_dir.iterdir()):
        raise zoo.ZooError(f"{model_dir} is not empty and holds no zoo run: pass a new --model_dir.")
    write_json(config_path, config)
    return False


def train_and_evaluate(model, splits, run, model_dir):
    """Trains `model` on `splits` as `run` says, writing everything into `model_dir`.

    Call it inside the strategy's scope. Under a multi-worker strategy every
    worker trains; only the chief writes files and evaluates.

    Args:
        model: an uncompiled `keras.Model` from raw inputs to logits.
        splits: a `zoo.datasets.Splits`.
        run: the run's settings (model, dataset, seed and recipe); a re-run with
            the same settings resumes, with others it is refused.
        model_dir: the run's folder.

    Returns:
        The metrics dict also written to `metrics.json`.
    """
    config = dict(
        run=run, input_shape=list(splits.input_shape), class_names=splits.class_names,
        strategy=distribute.describe(tf.distribute.get_strategy()),
        versions=library_versions(),
    )
    chief = distribute.is_chief()
    metrics_path = pathlib.Path(model_dir) / "metrics.json"
    if prepare_model_dir(model_dir, config) if chief else metrics_path.exists():
        logging.info("The run in %s has finished already; its results stand.", model_dir)
        return json.loads(metrics_path.read_text())
    if chief:
        write_text(os.path.join(model_dir, "labels.txt"), "\n".join(splits.class_names) + "\n")

    timing = trainer.fit(model, splits, run["recipe"], model_dir, run["seed"], chief)
    trainer.save(model.save, os.path.join(model_dir, "model.keras"), chief)
    logging.info("final weights checksum %.6f", weights_checksum(model))
    if not chief:
        return None

    test_logits, test_labels = trainer.predict_logits(model, splits.test)
    val_logits, val_labels = trainer.predict_logits(model, splits.validation)
    metrics = dict(
        model=run["model"], dataset=run["dataset"],
        test=report.classification_metrics(test_logits, test_labels, splits.class_names),
        validation_accuracy=float((val_logits.argmax(1) == val_labels).mean()),
        num_parameters=int(model.count_params()),
        **timing,
    )
    history = report.read_history(os.path.join(model_dir, "history.csv"))
    report.plot_history(history, os.path.join(model_dir, "training_curves.png"))
    report.plot_confusion_matrix(
        test_logits, test_labels, splits.class_names,
        os.path.join(model_dir, "confusion_matrix.png"),
    )
    write_json(os.path.join(model_dir, "metrics.json"), metrics)
    model_card.write_model_card(model_dir)
    logging.info(
        "test accuracy %.4f, macro-F1 %.4f; wrote %s",
        metrics["test"]["accuracy"], metrics["test"]["macro_f1"], model_dir,
    )
    return metrics


def export_and_describe(model_dir, formats, quantizations, data_dir=None):
    """On the chief: exports the finished run in `model_dir` with `export.export_run`, then
    rewrites its MODEL_CARD.md with the export's sizes and latencies."""
    if distribute.is_chief():
        export.export_run(model_dir, formats=formats, quantizations=quantizations, data_dir=data_dir)
        model_card.write_model_card(model_dir)
