"""MODEL_CARD.md for a training run: what the model is, its data, recipe, metrics and limits.

Mitchell et al. 2019, "Model Cards for Model Reporting". Everything comes from the
run folder (config.json, metrics.json, plots and, once exported, export/report.json)
and from the run's task, so the card never disagrees with them.
"""

import pathlib
import shutil

from zoo import registry
from zoo.files import atomic_path, write_text
from zoo.pretrained.manifest import is_encoder_entry
from zoo.run_folder import CARD, RunFolder
from zoo.tasks import get_task


def command(run):
    """The app command that reproduces the run: its options, and recipe values that differ from the registry's
    (for its pretrained weights, if it has a recipe for them)."""
    info = registry.model_info(run["model"])
    parts = [f"python -m zoo_apps.{get_task(run['task']).app}", f"--model={run['model']}"]
    parts += [f"--dataset={run['dataset']}", f"--seed={run['seed']}"]
    for name, value in run["options"].items():
        if value is not None:
            parts.append(f"--{name}={','.join(map(str, value)) if isinstance(value, (list, tuple)) else value}")
    if run.get("pretrained"):
        parts.append(f"--pretrained={'default' if run['pretrained'] is True else run['pretrained']}")
    if run.get("mixed_precision", "float32") != "float32":
        parts.append("--mixed_precision")
    if run.get("adversarial"):
        attack = run["adversarial"]
        parts.append(f"--adversarial={attack['method']} --adversarial_epsilon={attack['epsilon']:g}")
        parts += [f"--adversarial_steps={attack['steps']}"] if attack["method"] == "pgd" else []
    default = {**info["recipe"], **info["pretrained_recipe"].get(run.get("pretrained") or None, {})}
    for name, value in run["recipe"].items():
        if default.get(name) != value:
            parts.append(f"--{name}" if value is True else f"--no{name}" if value is False else f"--{name}={value}")
    return " ".join(parts)


def _overview(config, metrics, task, entry):
    run, info = config["run"], registry.model_info(config["run"]["model"])
    classes = config.get("class_names") or []
    shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
    rows = [
        ("model", f"`{run['model']}`: {info['description'].rstrip('.')} ({metrics['num_parameters']:,} parameters)"),
        ("reference", info["paper"]),
        ("task", task.name.replace("_", " ") + (f", {len(classes)} classes: {shown}" if classes else "")),
        ("input", task.input_description.format(shape=tuple(config["input_shape"] or ()))),
        ("output", task.output_description),
        ("dataset", f"`{run['dataset']}`"),
        ("trained with", ", ".join(f"{k} {v}" for k, v in config.get("versions", {}).items())),
    ]
    if run.get("pretrained"):
        start = (
            f"the default pretrained entry of `{run['model']}`"
            if run["pretrained"] is True
            else f"`{run['pretrained']}`"
        )
        rows.insert(-1, ("initialized from", f"{start} (`--pretrained`), then trained as below"))
    if entry:
        rows.append(
            ("weights", f"`{entry['file']}` (float16), {entry['size_bytes']:,} bytes, sha256 `{entry['sha256']}`")
        )
        if "test_accuracy_float16_weights" in entry:
            rows.append(
                (
                    "test accuracy of these weights",
                    f"{entry['test_accuracy_float16_weights']:.4f} (float32 run: {entry['test_accuracy']:.4f})",
                )
            )
    if run.get("adversarial"):
        attack = run["adversarial"]
        rows.insert(-1, ("adversarial training", f"{attack['method'].upper()} at {attack['epsilon']:g}/255"))
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def robustness_lines(entry):
    """The shipped entry's accuracy under attack (scripts/train_pretrained.py measures it), as a table."""
    measured = (entry or {}).get("robustness")
    if not measured:
        return []
    budgets = [budget for budget in measured["pgd"] if budget != "0"]
    lines = [
        "",
        f"Accuracy under attack on the test split (n={measured['examples']}; L-infinity budget in pixels of 255; "
        f"PGD: {measured['pgd_steps']} steps from a seeded random start; 95% Wilson intervals):",
        "",
        "| attack | clean | " + " | ".join(budgets) + " |",
        "|---|---|" + "---|" * len(budgets),
    ]
    for attack in ("fgsm", "pgd"):
        cells = [measured[attack][budget] for budget in ["0", *budgets]]
        lines.append(
            f"| {attack.upper()} | "
            + " | ".join(f"{c['accuracy']:.3f} ({c['interval'][0]:.3f}-{c['interval'][1]:.3f})" for c in cells)
            + " |"
        )
    return lines


def _usage(config, model_dir, entry, task):
    model = config["run"]["model"]
    if entry and is_encoder_entry(entry):
        return [
            "```python",
            "import zoo",
            f'model = zoo.create_model("bert", num_classes=2, preset="{entry["name"]}", pooling="mean")',
            "# then fit on your labelled texts, or: python -m zoo_apps.text_classify --model=bert "
            f"--preset={entry['name']} --pooling=mean --dataset=lines:DIR",
            "```",
        ]
    weights = entry["name"] if entry else str(model_dir)
    load = f'zoo.load_pretrained("{weights}")' if entry else f'keras.saving.load_model("{model_dir / "model.keras"}")'
    lines = ["```python", "import keras, zoo", "", f"model = {load}", *task.card_usage(config)]
    if registry.model_info(model)["from_runs"] and config.get("class_names") and task.head.new_classes_fine_tune:
        lines += [
            "# Fine-tuning on 5 classes of your own: the same backbone, a fresh head.",
            f'model = zoo.create_model("{model}", pretrained="{weights}", num_classes=5)',
        ]
    return lines + ["```"]


def _data(run, task):
    entry = task.dataset_entry(run["dataset"])
    if entry is None or entry.name == "NAME":
        return (
            f"The TensorFlow Datasets set `{run['dataset']}` (https://www.tensorflow.org/datasets/catalog/"
            f"{run['dataset'].split('/')[0]}), prepared offline; its own validation and test splits where it "
            "has them, else parts of its train split."
        )
    where = f" (`{run['dataset'].partition(':')[2]}`)" if ":" in run["dataset"] else ""
    return f"`{run['dataset']}`{where}: {entry.description}."


def _runs(timing):
    """How a report timed: "1,000", or "7 rounds of 300" (export.timing's alternating rounds)."""
    return f"{timing['rounds']} rounds of {timing['runs']:,}" if "rounds" in timing else f"{timing['runs']:,}"


def _latency_cell(latency):
    if not latency:
        return "-"
    spread = latency.get("spread")
    return f"{latency['median']:.3f}" + (f" ({spread[0]:.3f}-{spread[1]:.3f})" if spread else "")


def export_lines(report):
    """The card's Export section: the export `report` (or None) as Markdown lines."""
    if report is None:
        return [
            "Not exported: re-run the training command with `--export=all` (a finished run is not "
            "trained again), or `python -m export --model_dir=DIR`."
        ]
    task = get_task(report["task"])
    timing, headline, agreement_key = report["latency"], task.report_columns[0], task.agreement_column
    lines = [
        f"`python -m export`: {headline} on the test split ({report['test_examples']:,} examples), agreement "
        f"with Keras on {report.get('agreement_examples', report['test_examples']):,} inputs; batch-1 latency, "
        f"median of {_runs(timing['tflite'])} runs for TFLite ({timing['tflite']['how']}) and of "
        f"{_runs(timing['keras'])} calls for Keras, on the machine that exported it (in brackets: the lowest and "
        "highest round median):",
        "",
        f"| file | size KB | {headline} | agreement with Keras | latency ms | fidelity gate |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["files"]:
        agreement = f"{row[agreement_key]:.4f}" if agreement_key in row else "-"
        latency = _latency_cell(row.get("latency_ms"))
        quality = f"{row[headline]:.4f}" if headline in row else "-"
        gate = (
            "-"
            if "gate" not in row
            else "passed"
            if row["gate"]["passed"]
            else "**failed**: " + "; ".join(row["gate"]["reasons"])
        )
        size = row["size_bytes"] / 1024
        lines.append(f"| `{row['file']}` | {size:,.1f} | {quality} | {agreement} | {latency} | {gate} |")
    ratio = report.get("summary", {}).get("int8_latency_vs_float32")
    if ratio and "rounds" in timing["tflite"]:
        lines += ["", f"int8/float32 latency: **{ratio:.2f}** (the median of per-round ratios, timed in one process)."]
    ready = [
        f"`{row['file']}`: {row['delegates']['xnnpack_partitions']} XNNPACK partition(s), GPU delegate "
        + ("can run every op" if row["delegates"]["gpu_compatible"] else "cannot run every op")
        for row in report["files"]
        if "delegates" in row
    ]
    if ready:
        lines += ["", "Delegates (LiteRT's GPU compatibility check; XNNPACK on this CPU): " + "; ".join(ready) + "."]
    recommended = report.get("recommended")
    if recommended:
        lines += ["", f"Recommended for phones: `{recommended['file']}`, {recommended['why']}."]
        if recommended["slower_than_float32"]:
            lines.append(f"Slower than float32 here: {', '.join(recommended['slower_than_float32'])}.")
    return lines


def model_card_text(model_dir, entry=None):
    """Returns the Markdown model card of the finished run in `model_dir`.

    Args:
        model_dir: a finished run folder.
        entry: the manifest entry when the card describes shipped weights.
    """
    folder = RunFolder(model_dir)
    folder.require_finished()
    config, metrics, report = folder.config(), folder.metrics(), folder.report()
    run = config["run"]
    task = get_task(run["task"])
    title = entry["name"] if entry else f"{run['model']} on {run['dataset']}"
    timing = f"{metrics.get('training_seconds', '?')} s of training" + (
        f", {metrics['examples_per_second']:,} examples/s" if metrics.get("examples_per_second") else ""
    )
    plots = [f"![{caption}]({name})" for name, caption in metrics.get("plots", []) if folder.file(name).is_file()]
    sections = [
        [f"# Model card: {title}", ""] + _overview(config, metrics, task, entry),
        ["## Intended use", "", task.intended_use(config)],
        ["## Use", ""] + _usage(config, folder.path, entry, task),
        ["## Data", "", _data(run, task)],
        ["## Training", "", f"`{command(run)}` ({timing}).", "", "| recipe | value |", "|---|---|"]
        + [f"| {name} | {value} |" for name, value in run["recipe"].items()],
        ["## Metrics", ""] + task.card_metrics(metrics) + robustness_lines(entry) + ([""] + plots if plots else []),
        ["## Export", ""] + export_lines(report),
        ["## Limitations", ""]
        + task.card_limitations(config, metrics)
        + ["- A research and teaching model, not validated for decisions about people."],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def write_model_card(model_dir, destination=None, entry=None):
    """Writes MODEL_CARD.md for the run in `model_dir` (atomically) and returns its path.

    Args:
        model_dir: a finished run folder.
        destination: the folder to write it to, default `model_dir`; the plots are copied beside it.
        entry: the manifest entry when the card describes shipped weights.
    """
    folder = RunFolder(model_dir)
    destination = pathlib.Path(destination or folder.path)
    text = model_card_text(folder.path, entry)
    if destination != folder.path:
        for name, _ in folder.metrics().get("plots", []):
            if folder.file(name).is_file():
                with atomic_path(destination / name) as tmp:
                    shutil.copyfile(folder.file(name), tmp)
    write_text(destination / CARD, text)
    return destination / CARD
