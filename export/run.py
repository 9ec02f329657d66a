"""`export_run`: a trained run's folder to verified SavedModel and TFLite files in `DIR/export/`."""

import json
import pathlib
import tempfile
import time

from export import convert, sidecar, verify
from zoo.errors import ZooError
from zoo.files import remove_stale_temporaries
from zoo.quiet import native_stderr_to
from zoo.registry import model_info
from zoo.run_folder import RunFolder, load_keras_file
from zoo.tasks import get_task

FORMATS = ("saved_model", *convert.FLAVOURS)
LOG = "export.log"


def checked_formats(values):
    """`values` (names from FORMATS, or "all") as a tuple in FORMATS order; `ZooError` for others."""
    values = tuple(values)
    unknown = [value for value in values if value not in (*FORMATS, "all")]
    if unknown or not values:
        raise ZooError(f"Unknown export formats {unknown or values}: use any of {', '.join(FORMATS)}, or all.")
    return FORMATS if "all" in values else tuple(name for name in FORMATS if name in values)


def _latency_notes(task):
    tflite_rounds, tflite_invokes, tflite_warmup = verify.rounds_of(task.head.latency_runs or verify.TFLITE_TIMING)
    keras_rounds, keras_invokes, keras_warmup = verify.rounds_of(verify.KERAS_TIMING)
    examples = task.head.latency_examples
    return dict(
        batch_size=1,
        inputs="the last test input" if examples == 1 else f"the last {examples} test inputs, one per call, in turn",
        tflite=dict(
            rounds=tflite_rounds,
            runs=tflite_invokes,
            warmup=tflite_warmup,
            how="ai_edge_litert Interpreter, 1 thread, invoke(); the files in alternating rounds, median of round "
            "medians, spread: lowest and highest round median",
        ),
        keras=dict(rounds=keras_rounds, runs=keras_invokes, warmup=keras_warmup, how="model(x) eager call"),
    )


def _write_tflite_files(data, flavours, export_dir, metadata, output_name):
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        batch_of_one = convert.to_saved_model(
            data.tflite_model, pathlib.Path(tmp) / "saved_model", batch_size=1, output_name=output_name
        )
        for flavour in flavours:
            path = export_dir / f"model_{flavour}.tflite"
            entries = dict(metadata)
            if flavour == "int8":
                entries["calibration"] = dict(split="train", examples=len(data.calibration))
            convert.to_tflite(
                batch_of_one,
                path,
                flavour,
                metadata=entries,
                representative_data=data.calibration if flavour == "int8" else None,
                tensor_types=data.tensor_types,
            )
            paths.append(path)
    return paths


def export_run(model_dir, formats=FORMATS, data_dir=None):
    """Exports, verifies and reports a finished training run.

    Writes into `model_dir/export/`: `saved_model/`, `model_<flavour>.tflite` with
    `model_<flavour>.json` sidecars, and `report.json`, which describes every file
    in `export/` (also those of an earlier export); prints the report as a table.
    What the files take and return comes from the run's task (e.g. text models:
    the SavedModel takes raw strings, TFLite token ids with the tokenizer in the sidecar).

    Args:
        model_dir: a finished run folder.
        formats: any of `FORMATS` (`saved_model`, `float32`, `float16`, `dynamic`, `int8`), or `all`.
        data_dir: tfds data directory, for runs trained on a tfds dataset.

    Returns:
        The report dict also written to `report.json`.
    """
    start = time.perf_counter()
    formats = checked_formats(formats)
    folder = RunFolder(model_dir).require_finished()
    config = folder.config()
    run = config["run"]
    task = get_task(run["task"])
    flavours = [name for name in formats if name in convert.FLAVOURS]
    if flavours and not model_info(run["model"])["exportable"]:
        raise ZooError(f"{run['model']} is registered as not exportable to TFLite: pass --export=saved_model.")
    model = load_keras_file(folder.model_path)
    data = task.export_data(config, model, data_dir)
    skipped = {name: why for name, why in data.unsupported.items() if name in flavours}
    flavours = [name for name in flavours if name not in skipped]
    export_dir = folder.export_dir
    remove_stale_temporaries(export_dir)
    metadata = dict(model=run["model"], dataset=run["dataset"], output_description=task.output_description)
    metadata.update(data.metadata)

    export_dir.mkdir(parents=True, exist_ok=True)
    with native_stderr_to(export_dir / LOG):  # the converter's and interpreter's native logs
        if "saved_model" in formats:
            convert.to_saved_model(task.serving_model(model), export_dir / "saved_model", output_name=task.output_name)
        _write_tflite_files(data, flavours, export_dir, metadata, task.output_name)
        rows = _verified_rows(task, model, folder, data)
    report = dict(
        model_dir=str(folder.path),
        model=run["model"],
        dataset=run["dataset"],
        task=task.name,
        test_examples=len(data.labels),
        agreement_examples=verify.count(data.inputs),
        calibration_examples=len(data.calibration),
        latency=_latency_notes(task),
        files=rows,
        recommended=recommend(rows),
        failed={row["file"]: row["gate"]["reasons"] for row in rows if "gate" in row and not row["gate"]["passed"]},
        not_written={f"model_{name}.tflite": why for name, why in skipped.items()},
        summary=verify.summary(rows, task.report_columns[0]),
        export_seconds=round(time.perf_counter() - start, 2),
    )
    folder.write_report(report)
    _print_report(report, task, export_dir)
    return report


def _print_report(report, task, export_dir):
    what = f"{report['model']} on {report['dataset']}, {report['test_examples']} test examples"
    print(f"Export of {report['model_dir']} ({what}):")
    print(verify.format_table(report["files"], task.report_columns))
    print(f"{json.dumps(report['summary'])}; {report['export_seconds']} s; wrote {export_dir}")
    for name, why in report["not_written"].items():
        print(f"Not written: {name} ({why})")
    for name, reasons in report["failed"].items():
        print(f"FAILED the fidelity gate: {name} {'; '.join(reasons)}")
    recommended = report["recommended"]
    print(f"Recommended for phones: {recommended['file']} ({recommended['why']})")
    if recommended["slower_than_float32"]:
        print(f"Slower than float32 on this CPU: {', '.join(recommended['slower_than_float32'])}")


def check_gate(report):
    """Raises `ZooError` naming the files that failed the fidelity gate, and what to try."""
    if report["failed"]:
        failed = "; ".join(f"{name} {', '.join(reasons)}" for name, reasons in report["failed"].items())
        raise ZooError(
            f"Export finished but failed the fidelity gate: {failed}. Ship "
            f"{report['recommended']['file'] or 'the SavedModel'} instead, calibrate int8 on more or more "
            "typical data, or pass --accept_failed to keep the files as they are (they are marked failed "
            "in report.json and the card)."
        )


def _verified_rows(task, model, folder, data):
    """The report's rows: Keras, then every file in export/ (also from earlier exports) against it."""
    reference_model = task.reference_model(model)
    reference = verify.keras_outputs(reference_model, data.inputs)
    examples = task.head.latency_examples  # the last ones of the test split are timed
    keras_row = dict(
        file="model.keras",
        format="keras",
        size_bytes=verify.size_bytes(folder.model_path),
        **task.compare(reference, reference, data.labels),
        latency_ms=verify.keras_latency_ms(reference_model, verify.take(data.inputs, -examples, None)),
    )
    rows = [keras_row]
    saved_model = folder.export_dir / "saved_model"
    if saved_model.is_dir():
        outputs = verify.saved_model_outputs(saved_model, data.inputs)
        rows.append(
            dict(
                file="saved_model",
                format="saved_model",
                size_bytes=verify.size_bytes(saved_model),
                **task.compare(outputs, reference, data.labels),
            )
        )
        rows[-1]["gate"] = _gate(task, rows[-1], keras_row)
    for flavour in convert.FLAVOURS:
        path = folder.export_dir / f"model_{flavour}.tflite"
        if path.is_file():
            rows.append(_verified_tflite_row(task, path, data, reference, keras_row))
    files = {row["file"]: folder.export_dir / row["file"] for row in rows if row["format"] == "tflite"}
    timed = {name: (path, verify.latency_input(path, data.inputs, examples)) for name, path in files.items()}
    latency = verify.tflite_files_latency_ms(timed, task.head.latency_runs)
    for row in rows:
        if row["file"] in latency:
            row["latency_ms"] = latency[row["file"]]
    return rows


def _gate(task, row, keras_row):
    reasons = task.gate(row, keras_row)
    return dict(passed=not reasons, reasons=reasons)


def _verified_tflite_row(task, path, data, reference, keras_row):
    row = verify.verify_tflite(task, path, data.inputs, data.labels, reference, latency=False)
    row["gate"] = _gate(task, row, keras_row)
    description = sidecar.read(path)
    description["verification"] = dict(
        test_examples=len(data.labels),
        keras=keras_row.get(task.report_columns[0]),
        **{key: value for key, value in row.items() if key not in ("file", "format", "operators", "latency_ms")},
    )
    sidecar.write(path, description)
    return row


def recommend(rows):
    """The file a phone should ship: the smallest TFLite file that passes the gate (the faster of two
    within 5% in size); and the flavours slower than float32 (median latency over 1.05x)."""
    passed = [row for row in rows if row["format"] == "tflite" and row["gate"]["passed"]]
    float32 = next((row for row in rows if row["file"] == "model_float32.tflite"), None)
    slower = [
        row["file"]
        for row in rows
        if float32
        and row["format"] == "tflite"
        and row is not float32
        and row["latency_ms"]["median"] > 1.05 * float32["latency_ms"]["median"]
    ]
    if not passed:
        return dict(file=None, why="no TFLite file passes the fidelity gate", slower_than_float32=slower)
    smallest = min(row["size_bytes"] for row in passed)
    close = [row for row in passed if row["size_bytes"] <= 1.05 * smallest]
    best = min(close, key=lambda row: row["latency_ms"]["median"])
    why = f"the smallest file that passes the fidelity gate ({best['size_bytes'] / 1024:,.0f} KB"
    why += f", {best['latency_ms']['median']:.3f} ms median)"
    return dict(file=best["file"], why=why, slower_than_float32=slower)
