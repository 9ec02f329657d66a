"""MODEL_CARD.md for a training run: what the model is, its data, recipe, metrics and limits.

Mitchell et al. 2019, "Model Cards for Model Reporting". Everything comes from
the run's own files (config.json, metrics.json, confusion_matrix.png and, once
exported, export/report.json), so the card never disagrees with them.

    python -m zoo_apps.model_card --model_dir=runs/cnn_mnist_5k
"""

import json
import math
import pathlib
import shutil

from absl import flags

import zoo
from zoo.files import atomic_path, write_text
from zoo.pretrained.loading import NOT_FROM_RUNS
from zoo.text import vectorization

FILE_NAME = "MODEL_CARD.md"
DATASETS = {
    "mnist_5k": (
        "5,000 real MNIST training digits (500 per class) embedded in zoo, split 80/10/10 with "
        "the run's seed: 28x28 grayscale handwritten digits, white on black, size-normalized and centered.",
        "Expects MNIST-like digits: 28x28, white strokes on black, centered. Dark-on-light scans, "
        "photos or other alphabets need preprocessing (invert, crop, center) or fine-tuning.",
    ),
    "digits": (
        "scikit-learn's 1,797 8x8 handwritten digits (the UCI optdigits test set), "
        "rescaled from 0-16 to 0-255 and split 80/10/10 with the run's seed.",
        "Only 8x8 pixels from a small group of writers: it says little about other handwriting or resolutions.",
    ),
}


def _wilson_interval(accuracy, count, z=1.96):
    """The 95% Wilson score interval of an accuracy measured on `count` examples."""
    center = (accuracy + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(accuracy * (1 - accuracy) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return center - half, center + half


def _command(run):
    """The app command that reproduces the run: its options, and recipe values that differ from the registry."""
    info = zoo.model_info(run["model"])
    app = "text_classify" if info["task"] == "text_classification" else "image_classify"
    parts = [f"python -m zoo_apps.{app}", f"--model={run['model']}", f"--dataset={run['dataset']}"]
    parts.append(f"--seed={run['seed']}")
    if run.get("image_size"):
        parts.append(f"--image_size={','.join(str(v) for v in run['image_size'])}")
    parts += [f"--{name}={value}" for name, value in run.get("model_options", {}).items()]
    if run.get("pretrained"):
        parts.append(f"--pretrained={'default' if run['pretrained'] is True else run['pretrained']}")
    if run.get("mixed_precision", "float32") != "float32":
        parts.append("--mixed_precision")
    for name, value in run["recipe"].items():
        if info["recipe"].get(name) != value:
            parts.append(f"--{name}" if value is True else f"--no{name}" if value is False else f"--{name}={value}")
    return " ".join(parts)


def _overview(config, metrics, info, entry):
    run = config["run"]
    classes = config["class_names"]
    shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
    if info["task"] == "image_classification":
        inputs = f"`pixels`: float32 raw pixels 0-255, shape {tuple(config['input_shape'])}; rescaling is inside the model"
    else:
        inputs = "raw UTF-8 strings; tokenization is inside the model"
    versions = config.get("versions", {})
    rows = [
        ("model", f"`{run['model']}`: {info['description'].rstrip('.')} ({metrics['num_parameters']:,} parameters)"),
        ("reference", info["paper"]),
        ("task", f"{info['task'].replace('_', ' ')}, {len(classes)} classes: {shown}"),
        ("input", inputs),
        ("output", f"`logits`: {len(classes)} class logits, no softmax (apply `keras.ops.softmax` for probabilities)"),
        ("dataset", f"`{run['dataset']}`"),
        ("trained with", ", ".join(f"{k} {v}" for k, v in versions.items())),
    ]
    if run.get("pretrained"):
        start = (
            f"the default pretrained entry of `{run['model']}`" if run["pretrained"] is True
            else f"`{run['pretrained']}`"
        )
        rows.insert(-1, ("initialized from", f"{start} (`--pretrained`), then trained as below"))
    if entry:
        rows.append(("weights", f"`{entry['file']}` (float16), {entry['size_bytes']:,} bytes, sha256 `{entry['sha256']}`"))
        if "test_accuracy_float16_weights" in entry:
            rows.append(("test accuracy of these weights", f"{entry['test_accuracy_float16_weights']:.4f} (float32 run: {entry['test_accuracy']:.4f})"))
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _usage(config, model_dir, entry):
    model = config["run"]["model"]
    weights = entry["name"] if entry else str(model_dir)
    load = f'zoo.load_pretrained("{weights}")' if entry else f'keras.saving.load_model("{model_dir / "model.keras"}")'
    shape = config["input_shape"]
    inputs = f"images  # float32 pixels 0-255, shape (batch, {', '.join(map(str, shape))})" if shape else "texts  # a batch of strings"
    fine_tuning = [
        "# Fine-tuning on 5 classes of your own: the same backbone, a fresh head.",
        f'model = zoo.create_model("{model}", pretrained="{weights}", num_classes=5)',
    ]
    return [
        "```python",
        "import keras, zoo",
        f"model = {load}",
        f"logits = model({inputs.replace('  #', ')  #', 1)}",
        "probabilities = keras.ops.softmax(logits)",
        *([] if model in NOT_FROM_RUNS else fine_tuning),
        "```",
    ]


def _metrics(metrics):
    test = metrics["test"]
    count = test["num_examples"]
    low, high = _wilson_interval(test["accuracy"], count)
    lines = [
        f"On the test split ({count:,} examples, never used for training or model selection):",
        "",
        f"- accuracy **{test['accuracy']:.4f}** (95% interval {low:.4f}-{high:.4f})",
        f"- macro-F1 {test['macro_f1']:.4f}" + (f", one-vs-rest AUC {test['auc_ovr']:.4f}" if test.get("auc_ovr") else ""),
        f"- validation accuracy {metrics['validation_accuracy']:.4f}",
        "",
        "| class | precision | recall | support |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['support']} |"
        for name, row in test["per_class"].items()
    ]
    return lines


def _data(run, task):
    """Where the run's examples came from and how they were split."""
    dataset = run["dataset"]
    kind, _, folder = dataset.partition(":")
    if dataset in DATASETS:
        return DATASETS[dataset][0]
    if kind == "lines":
        return (
            f"Texts from `{folder}`: one file per class (the class is the file name), one example "
            "per line, split 80/10/10 into train/validation/test with the run's seed."
        )
    if kind == "folder":
        layout = "one .txt file per example" if task == "text_classification" else "one image file per example"
        return (
            f"Files from `{folder}`: one sub-folder per class (the class is the folder name), {layout}, "
            "split 80/10/10 into train/validation/test with the run's seed."
        )
    return (
        f"The TensorFlow Datasets set `{dataset}` (https://www.tensorflow.org/datasets/catalog/"
        f"{kind.split('/')[0]}), prepared offline; its own validation and test splits where it "
        "has them, else parts of its train split."
    )


def _export(report):
    if report is None:
        return [
            "Not exported: re-run the training command with `--export=all` (a finished run is not "
            "trained again), or `python -m export --model_dir=DIR` then `python -m zoo_apps.model_card "
            "--model_dir=DIR`."
        ]
    lines = [
        f"`python -m export` on the test split ({report['test_examples']:,} examples); batch-1 latency "
        f"(median) with {report['latency']['tflite']} for TFLite and {report['latency']['keras']} for Keras, "
        "on the machine that exported it:",
        "",
        "| file | size KB | accuracy | agreement with Keras | latency ms |",
        "|---|---|---|---|---|",
    ]
    for row in report["files"]:
        agreement = f"{row['top1_agreement']:.4f}" if "top1_agreement" in row else "-"
        latency = f"{row['latency_ms']['median']:.3f}" if row.get("latency_ms") else "-"
        lines.append(
            f"| `{row['file']}` | {row['size_bytes'] / 1024:,.1f} | {row['accuracy']:.4f} | {agreement} | {latency} |"
        )
    return lines


def _limitations(config, metrics, report):
    run = config["run"]
    count = metrics["test"]["num_examples"]
    low, high = _wilson_interval(metrics["test"]["accuracy"], count)
    lines = [
        f"- The accuracy comes from {count:,} test examples of `{run['dataset']}`: the true value on "
        f"that distribution lies about in {low:.4f}-{high:.4f}; on other data it can be far lower.",
        f"- It always answers with one of its {len(config['class_names'])} classes, also for inputs "
        "that belong to none (no out-of-distribution detection): check inputs before trusting it.",
    ]
    if run["dataset"] in DATASETS:
        lines.append(f"- {DATASETS[run['dataset']][1]}")
    if zoo.model_info(run["model"])["task"] == "text_classification":
        # A run started from --pretrained keeps that run's sequence length unless it set one.
        default = None if run.get("pretrained") else vectorization.SEQUENCE_LENGTH
        length = run["model_options"].get("sequence_length", default)
        lines.append(
            f"- It reads only the first {length or '`sequence_length`'} tokens of a text (the rest is "
            "cut off) and knows only the words of its vocabulary, built from its training texts or "
            "taken from what it started from (a --pretrained run, a BERT preset): other words carry "
            "little or no meaning for it."
        )
    if report:
        int8 = [row for row in report["files"] if row["file"] == "model_int8.tflite"]
        if int8 and int8[0]["top1_agreement"] < 1:
            lines.append(
                f"- The int8 TFLite file disagrees with Keras on {100 * (1 - int8[0]['top1_agreement']):.1f}% "
                "of test examples."
            )
    lines.append("- A research and teaching model, not validated for decisions about people.")
    return lines


def model_card_text(model_dir, entry=None):
    """Returns the Markdown model card of the finished run in `model_dir`.

    Args:
        model_dir: a run folder (config.json and metrics.json).
        entry: the manifest entry when the card describes shipped weights.
    """
    model_dir = pathlib.Path(model_dir)
    missing = [name for name in ("config.json", "metrics.json") if not (model_dir / name).is_file()]
    if missing:
        raise zoo.ZooError(f"{model_dir} is not a finished run (no {', '.join(missing)}): pass a run's --model_dir.")
    config = json.loads((model_dir / "config.json").read_text())
    metrics = json.loads((model_dir / "metrics.json").read_text())
    report_path = model_dir / "export" / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else None
    run = config["run"]
    info = zoo.model_info(run["model"])
    title = entry["name"] if entry else f"{run['model']} on {run['dataset']}"
    recipe = [f"| {name} | {value} |" for name, value in run["recipe"].items()]
    timing = f"{metrics.get('training_seconds', '?')} s of training" + (
        f", {metrics['examples_per_second']:,} examples/s" if metrics.get("examples_per_second") else ""
    )
    sections = [
        [f"# Model card: {title}", ""] + _overview(config, metrics, info, entry),
        ["## Intended use", "",
         f"Classifying inputs like those of `{run['dataset']}` into its {len(config['class_names'])} classes; "
         "a reference result to compare against, a starting point for fine-tuning on similar data, and a "
         "small model to try on-device deployment with."],
        ["## Use", ""] + _usage(config, model_dir, entry),
        ["## Data", "", _data(run, info["task"])],
        ["## Training", "", f"`{_command(run)}` ({timing}).", "", "| recipe | value |", "|---|---|", *recipe],
        ["## Metrics", ""] + _metrics(metrics)
        + (["", "![Confusion matrix on the test split](confusion_matrix.png)"]
           if (model_dir / "confusion_matrix.png").is_file() else []),
        ["## Export", ""] + _export(report),
        ["## Limitations", ""] + _limitations(config, metrics, report),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def write_model_card(model_dir, destination=None, entry=None):
    """Writes MODEL_CARD.md for the run in `model_dir` (atomically) and returns its path.

    Args:
        model_dir: a finished run folder.
        destination: the folder to write it to, default `model_dir`; the
            confusion-matrix plot is copied beside it.
        entry: the manifest entry when the card describes shipped weights.
    """
    model_dir = pathlib.Path(model_dir)
    destination = pathlib.Path(destination or model_dir)
    text = model_card_text(model_dir, entry)
    plot = model_dir / "confusion_matrix.png"
    if destination != model_dir and plot.is_file():
        with atomic_path(destination / plot.name) as tmp:
            shutil.copyfile(plot, tmp)
    write_text(destination / FILE_NAME, text)
    return destination / FILE_NAME


def main(argv):
    print(write_model_card(flags.FLAGS.model_dir))


if __name__ == "__main__":
    from zoo_apps.flags import run

    flags.DEFINE_string("model_dir", None, "A finished training run.", required=True)
    run(main)
