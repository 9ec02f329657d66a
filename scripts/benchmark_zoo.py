"""The zoo's results table: every pretrained entry through loading, evaluation and export.

For each manifest entry: load it with `zoo.load_pretrained` (timed), save it as a
run folder, and run `export.export_run` on it (Keras, float32, float16 and int8
TFLite on the entry's test split, with batch-1 latency on this CPU). Writes
`results.csv` and `results.md` to --output_dir and prints the Markdown table:

    python scripts/benchmark_zoo.py
    python scripts/benchmark_zoo.py --update_cards  # also: each card's Export section from its new report
    python scripts/benchmark_zoo.py --entries=cnn_mnist_5k --data_dir=~/tensorflow_datasets  # + full MNIST test
"""

import csv
import io
import json
import os
import pathlib
import platform
import time

from absl import flags

import export
import zoo
from export import verify
from zoo import card
from zoo.cli import run_main
from zoo.datasets import load_image_dataset
from zoo.files import atomic_path, write_json, write_text
from zoo.pretrained import list_pretrained, manifest, pretrained_info, weights_path
from zoo.tasks.classification import predict_logits

flags.DEFINE_list("entries", None, "Entries to benchmark; default all in the manifest.")
flags.DEFINE_string("manifest", None, "Another manifest.json; default the package's.")
flags.DEFINE_string("output_dir", "runs/benchmark_zoo", "Where the exports and the results go.")
flags.DEFINE_string(
    "data_dir",
    None,
    "tfds data directory with `mnist` prepared: mnist_5k entries are then "
    "also scored on the full MNIST test set (10,000 digits).",
)
flags.DEFINE_boolean(
    "update_cards",
    False,
    "Rewrite the Export section of each entry's card (next to the manifest) from this export's report: "
    "then `python scripts/readme_tables.py` carries the numbers into the README.",
)
FLAGS = flags.FLAGS

COLUMNS = (
    ("entry", "entry", "{}"),
    ("params", "params", "{:,}"),
    ("keras_accuracy", "Keras acc.", "{:.4f}"),
    ("float16_accuracy", "float16 TFLite acc.", "{:.4f}"),
    ("int8_accuracy", "int8 TFLite acc.", "{:.4f}"),
    ("test_examples", "test examples", "{:,}"),
    ("mnist_test_accuracy", "MNIST 10k acc.", "{:.4f}"),
    ("weights_kb", "weights KB", "{:,.1f}"),
    ("float16_kb", "float16 KB", "{:,.1f}"),
    ("int8_kb", "int8 KB", "{:,.1f}"),
    ("keras_ms", "Keras ms", "{:.3f}"),
    ("float32_ms", "float32 TFLite ms", "{:.3f}"),
    ("int8_ms", "int8 TFLite ms", "{:.3f}"),
    ("load_seconds", "load s", "{:.2f}"),
)


def full_mnist_accuracy(model):
    splits = load_image_dataset("mnist", data_dir=FLAGS.data_dir)
    logits, labels = predict_logits(model, splits.test)
    return float((logits.argmax(1) == labels).mean())


def benchmark(name, output_dir):
    """One entry's row: load time, then the export report of the loaded model."""
    entry = pretrained_info(name, FLAGS.manifest)
    start = time.perf_counter()
    model = zoo.load_pretrained(name, manifest_path=FLAGS.manifest)
    load_seconds = time.perf_counter() - start
    # A run folder, as export_run takes: the model and the settings of its run.
    run_dir = output_dir / name
    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    write_json(
        run_dir / "config.json",
        dict(
            run=dict(
                model=entry["model"],
                task="image_classification",
                dataset=entry["dataset"],
                seed=entry["seed"],
                options={},
                recipe=entry["recipe"],
            ),
            input_shape=entry["input"]["shape"],
            class_names=entry["class_names"],
        ),
    )
    write_json(run_dir / "metrics.json", dict(model=entry["model"], dataset=entry["dataset"]))
    formats = ("all",) if FLAGS.update_cards else ("float32", "float16", "int8")  # a card describes every file
    report = export.export_run(run_dir, formats=formats)
    files = {row["file"]: row for row in report["files"]}
    keras_row, float32, float16, int8 = (
        files[f] for f in ("model.keras", "model_float32.tflite", "model_float16.tflite", "model_int8.tflite")
    )
    row = dict(
        entry=name,
        model=entry["model"],
        dataset=entry["dataset"],
        params=entry["num_parameters"],
        keras_accuracy=keras_row["accuracy"],
        float16_accuracy=float16["accuracy"],
        int8_accuracy=int8["accuracy"],
        test_examples=report["test_examples"],
        mnist_test_accuracy=None,
        weights_kb=weights_path(entry, manifest_path=FLAGS.manifest).stat().st_size / 1024,
        float16_kb=float16["size_bytes"] / 1024,
        int8_kb=int8["size_bytes"] / 1024,
        keras_ms=keras_row["latency_ms"]["median"],
        float32_ms=float32["latency_ms"]["median"],
        int8_ms=int8["latency_ms"]["median"],
        load_seconds=load_seconds,
    )
    if FLAGS.data_dir and entry["dataset"] == "mnist_5k":
        row["mnist_test_accuracy"] = full_mnist_accuracy(model)
    if FLAGS.update_cards:
        update_card(name, report)
    return row


def update_card(name, report):
    """Replaces the Export section of entry `name`'s card with `report` (an export of its shipped weights)."""
    path = pathlib.Path(FLAGS.manifest or manifest.MANIFEST_PATH).parent / "cards" / name / "MODEL_CARD.md"
    text = path.read_text()
    start = text.index("## Export\n\n") + len("## Export\n\n")
    end = text.index("\n## ", start)
    lines = ["Exported from the shipped float16 weights by `python scripts/benchmark_zoo.py --update_cards`.", ""]
    write_text(path, text[:start] + "\n".join(lines + card.export_lines(report)) + "\n" + text[end:])


def markdown_table(rows):
    columns = [c for c in COLUMNS if any(row[c[0]] is not None for row in rows)]
    lines = ["| " + " | ".join(title for _, title, _ in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [fmt.format(row[key]) if row[key] is not None else "-" for key, _, fmt in columns]
        cells[0] = f"`{cells[0]}`"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    names = FLAGS.entries or [  # the image classifiers: text entries export through text_classify --export=all
        name
        for name in list_pretrained(manifest=FLAGS.manifest)
        if pretrained_info(name, FLAGS.manifest).get("task", "image_classification") == "image_classification"
    ]
    if not names:
        raise zoo.ZooError("The manifest has no entries: run scripts/train_pretrained.py first.")
    output_dir = pathlib.Path(FLAGS.output_dir)
    rows = [benchmark(name, output_dir) for name in names]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(output_dir / "results.csv", buffer.getvalue())
    tflite, keras = verify.rounds_of(verify.TFLITE_TIMING), verify.rounds_of(verify.KERAS_TIMING)
    note = (
        f"Batch-1 latency: median of round medians, the files of one export in {tflite[0]} alternating rounds of "
        f"{tflite[1]} invokes (export.timing) with the LiteRT interpreter on 1 thread for TFLite, of {keras[0]} "
        f"rounds of {keras[1]} calls of the model for Keras; on this {platform.machine()} machine's "
        f"{os.cpu_count()} CPU cores. Accuracy on each entry's test split, with the shipped float16 weights."
    )
    table = markdown_table(rows) + "\n\n" + note + "\n"
    write_text(output_dir / "results.md", table)
    print(table)
    print(json.dumps(dict(csv=str(output_dir / "results.csv"), markdown=str(output_dir / "results.md"))))


if __name__ == "__main__":
    run_main(main)
