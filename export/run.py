"""`export_run`: a trained run's folder to verified SavedModel and TFLite files in `DIR/export/`."""

import json
import pathlib
import tempfile
import time

import keras

import zoo
from export import convert, sidecar, verify
from export.inputs import load_run_data
from zoo.errors import ZooError
from zoo.files import write_json

FORMATS = ("saved_model", "tflite")


def _checked_choices(values, allowed, what):
    values = tuple(values)
    unknown = [value for value in values if value not in allowed]
    if unknown or not values:
        raise ZooError(f"Unknown {what} {unknown or values}: use any of {', '.join(allowed)}.")
    return values


def _read_run(model_dir):
    model_dir = pathlib.Path(model_dir)
    missing = [name for name in ("model.keras", "config.json") if not (model_dir / name).is_file()]
    if missing:
        raise ZooError(
            f"{model_dir} is not a finished zoo run (no {', '.join(missing)}): pass the "
            "--model_dir of a run trained with `python -m zoo_apps.image_classify` or "
            "`python -m zoo_apps.text_classify`."
        )
    config = json.loads((model_dir / "config.json").read_text())
    model = keras.saving.load_model(model_dir / "model.keras", compile=False)
    return model, config


def export_run(model_dir, formats=FORMATS, quantizations=convert.QUANTIZATIONS, data_dir=None):
    """Exports, verifies and reports a finished training run.

    Writes into `model_dir/export/`: `saved_model/`, `model_<flavour>.tflite`
    with `model_<flavour>.json` sidecars (flavours float32, float16, dynamic,
    int8), and `report.json`; prints the report as a table. For text models
    the SavedModel takes raw strings and the TFLite files take token ids, with
    the tokenizer in the sidecar (see `export.inputs`).

    Args:
        model_dir: a run folder from `zoo_apps.image_classify` or
            `zoo_apps.text_classify` (model.keras, config.json).
        formats: any of `"saved_model"`, `"tflite"`.
        quantizations: TFLite flavours, any of `"none"`, `"float16"`, `"dynamic"`, `"int8"`.
        data_dir: tfds data directory, for runs trained on a tfds dataset.

    Returns:
        The report dict also written to `report.json`.
    """
    start = time.perf_counter()
    formats = _checked_choices(formats, FORMATS, "formats")
    quantizations = _checked_choices(quantizations, convert.QUANTIZATIONS, "quantizations")
    model_dir = pathlib.Path(model_dir)
    model, config = _read_run(model_dir)
    run = config["run"]
    if "tflite" in formats and not zoo.model_info(run["model"])["exportable"]:
        raise ZooError(f"{run['model']} is registered as not exportable to TFLite: pass --formats=saved_model.")
    data = load_run_data(run, model, data_dir)
    inputs, labels, calibration = data.test_inputs, data.test_labels, data.calibration
    export_dir = model_dir / "export"
    metadata = dict(model=run["model"], dataset=run["dataset"], **data.metadata)

    reference = verify.keras_logits(model, inputs)
    rows = [dict(
        file="model.keras", format="keras", size_bytes=verify.size_bytes(model_dir / "model.keras"),
        accuracy=float((reference.argmax(1) == labels).mean()),
        latency_ms=verify.keras_latency_ms(model, inputs[:1]),
    )]
    if "saved_model" in formats:
        saved_model = convert.to_saved_model(model, export_dir / "saved_model")
        rows.append(dict(
            file="saved_model", format="saved_model", size_bytes=verify.size_bytes(saved_model),
            **verify.compare(verify.saved_model_logits(saved_model, inputs), labels, reference),
        ))
    tflite_paths = []
    with tempfile.TemporaryDirectory() as tmp:
        batch_of_one = convert.to_saved_model(
            data.tflite_model, pathlib.Path(tmp) / "saved_model", batch_size=1
        )
        for quantize in quantizations if "tflite" in formats else ():
            path = export_dir / f"model_{convert.FLAVOURS[quantize]}.tflite"
            entries = dict(metadata)
            if quantize == "int8":
                entries["calibration"] = dict(split="train", examples=len(calibration))
            convert.to_tflite(
                batch_of_one, path, quantize, metadata=entries,
                representative_data=calibration if quantize == "int8" else None,
            )
            tflite_paths.append(path)
    for path in tflite_paths:
        row = verify.verify_tflite(path, inputs, labels, reference)
        rows.append(row)
        description = sidecar.read(path)
        description["accuracy"] = dict(
            split="test", examples=len(labels), tflite=row["accuracy"], keras=rows[0]["accuracy"],
            top1_agreement_with_keras=row["top1_agreement"],
        )
        sidecar.write(path, description)

    report = dict(
        model_dir=str(model_dir), model=run["model"], dataset=run["dataset"], task=metadata["task"],
        test_examples=len(labels), calibration_examples=len(calibration),
        latency=dict(
            batch_size=1,
            tflite=dict(
                runs=verify.TFLITE_TIMING[0], warmup=verify.TFLITE_TIMING[1],
                how="ai_edge_litert Interpreter, 1 thread, invoke() (texts: on token ids)",
            ),
            keras=dict(
                runs=verify.KERAS_TIMING[0], warmup=verify.KERAS_TIMING[1],
                how="model(x) eager call (texts: tokenization included)",
            ),
        ),
        files=rows, summary=verify.summary(rows),
        export_seconds=round(time.perf_counter() - start, 2),
    )
    write_json(export_dir / "report.json", report)
    print(f"Export of {model_dir} ({run['model']} on {run['dataset']}, {len(labels)} test examples):")
    print(verify.format_table(rows))
    print(f"{json.dumps(report['summary'])}; {report['export_seconds']} s; wrote {export_dir}")
    return report
