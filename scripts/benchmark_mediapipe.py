"""Every shipped classifier entry (and any run given) in MediaPipe Tasks, every flavour: does the file open in the
runtime phones use, and does it answer as zoo's `Predictor` on the whole test split? And what do uint8 pixels cost
the int8 file against the int8 pixels zoo's int8 files took before?

    python scripts/benchmark_mediapipe.py                                   # shipped entries
    python scripts/benchmark_mediapipe.py --entries=cnn_mnist_5k --model_dirs=runs/cnn_mnist_5k,runs/textcnn_mr

Each entry becomes a run folder under --output_dir (`zoo.pretrained.runs.entry_run_folder`) exported with
`export.export_run` (all flavours); runs given with --model_dirs are exported there too if they have no export.
MediaPipe (`export.mediapipe_tasks`) reads only the file and its metadata. The latency comparison converts the same
model twice, the int8 file as exported (RGB uint8 pixels in, float32 scores out) and as zoo wrote it before (the
model's own channels, int8 pixels in, int8 logits out), and times both in alternating rounds on one thread.
"""

import json
import pathlib
import time

import numpy as np
from absl import flags
from ai_edge_litert.interpreter import Interpreter

import export
from export import mediapipe_tasks
from zoo.cli import run_main
from zoo.files import write_json
from zoo.pretrained import list_pretrained, pretrained_info
from zoo.pretrained.runs import entry_run_folder
from zoo.run_folder import RunFolder, load_keras_file
from zoo.tasks import get_task
from zoo.tasks.arrays import split_arrays
from zoo.tasks.classification import calibration_inputs

flags.DEFINE_list("entries", None, "Shipped entries; default every image and text classifier in the manifest.")
flags.DEFINE_list("model_dirs", [], "Finished runs to check as well (exported here if they have no export).")
flags.DEFINE_string("output_dir", "runs/benchmark_mediapipe", "Where entry run folders and results.json go.")
flags.DEFINE_integer("rounds", 9, "Alternating timing rounds of the int8 uint8-input vs int8-input files.")
flags.DEFINE_integer("invokes", 300, "Invokes of each file per round.")
FLAGS = flags.FLAGS
CLASSIFIERS = ("image_classification", "text_classification")


def test_inputs(folder):
    config = folder.config()
    task = get_task(config["run"]["task"])
    splits = task.load_data(config["run"]["dataset"], config["run"]["seed"], **config["run"]["options"])
    inputs, _ = split_arrays(splits.test)
    return task, splits, task.side.raw_inputs(inputs)


def check_files(folder, inputs):
    """One row per TFLite file: opened in MediaPipe, and its top-1 agreement with Predictor."""
    rows = []
    for path in sorted(folder.export_dir.glob("model_*.tflite")):
        expected = [ranked[0][0] for ranked in export.Predictor(path).predict(inputs, top_k=1)]
        try:
            answers = mediapipe_tasks.top1(path, inputs)
        except Exception as error:  # what MediaPipe says is the result
            rows.append(dict(file=path.name, opened=False, error=str(error).splitlines()[0][:200]))
            continue
        same = np.asarray(answers) == np.asarray(expected)
        rows.append(dict(file=path.name, opened=True, agreement=float(same.mean()), examples=len(same)))
    return rows


def round_medians(paths_and_inputs, rounds, invokes):
    """Per file, the median invoke time (ms) of each round; the files take turns within every round."""
    runners = {}
    for name, (path, value) in paths_and_inputs.items():
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], value)
        for _ in range(50):
            interpreter.invoke()
        runners[name] = interpreter
    medians = {name: [] for name in runners}
    for _ in range(rounds):
        for name, interpreter in runners.items():
            times = []
            for _ in range(invokes):
                start = time.perf_counter()
                interpreter.invoke()
                times.append((time.perf_counter() - start) * 1000)
            medians[name].append(float(np.median(times)))
    return medians


def uint8_cost(folder, splits):
    """The int8 file as exported (uint8 RGB in) against the same model with int8 pixels in and int8 logits out."""
    model = load_keras_file(folder.model_path)
    before = folder.export_dir.parent / "int8_input_before.tflite"
    export.to_tflite(model, before, "int8", calibration_inputs(splits.train), tensor_types=("int8", "int8"))
    image = calibration_inputs(splits.test)[0][None]
    now = folder.export_dir / "model_int8.tflite"
    medians = round_medians(
        dict(
            uint8_rgb=(
                now,
                np.repeat(image, 3, -1).astype(np.uint8) if image.shape[-1] == 1 else image.astype(np.uint8),
            ),
            int8=(before, (image - 128).astype(np.int8)),
        ),
        FLAGS.rounds,
        FLAGS.invokes,
    )
    ratios = np.asarray(medians["uint8_rgb"]) / np.asarray(medians["int8"])
    return dict(
        uint8_rgb_ms=float(np.median(medians["uint8_rgb"])),
        int8_ms=float(np.median(medians["int8"])),
        ratio=float(np.median(ratios)),
        ratio_spread=[float(ratios.min()), float(ratios.max())],
        rounds=FLAGS.rounds,
        invokes_per_round=FLAGS.invokes,
    )


def benchmark(folder):
    folder = RunFolder(folder)
    if not (folder.export_dir / "report.json").is_file():
        export.export_run(folder.path, formats=("all",))
    task, splits, inputs = test_inputs(folder)
    result = dict(run=str(folder.path), task=task.name, files=check_files(folder, inputs))
    if task.side.int8_input_type == "uint8":
        result["uint8_input_cost"] = uint8_cost(folder, splits)
    return result


def print_result(name, result):
    for row in result["files"]:
        if row["opened"]:
            print(
                f"{name:<28} {row['file']:<22} opens; top-1 as Predictor on {row['agreement']:.2%} of {row['examples']}"
            )
        else:
            print(f"{name:<28} {row['file']:<22} REFUSED: {row['error']}")
    cost = result.get("uint8_input_cost")
    if cost:
        low, high = cost["ratio_spread"]
        print(
            f"{name:<28} int8 file latency, uint8 RGB in / int8 in (before): {cost['uint8_rgb_ms']:.4f} / "
            f"{cost['int8_ms']:.4f} ms, ratio {cost['ratio']:.3f} (rounds {low:.3f}-{high:.3f})"
        )


def main(argv):
    output_dir = pathlib.Path(FLAGS.output_dir)
    names = FLAGS.entries or [
        name for name in list_pretrained() if pretrained_info(name).get("task", "image_classification") in CLASSIFIERS
    ]
    folders = {name: output_dir / name for name in names}
    for name, folder in folders.items():
        if not (folder / "model.keras").is_file():
            entry_run_folder(name, folder)
    folders.update({str(path): pathlib.Path(path) for path in FLAGS.model_dirs})
    results = {}
    for name, folder in folders.items():
        results[name] = benchmark(folder)
        print_result(name, results[name])
    write_json(output_dir / "results.json", results)
    print(json.dumps(dict(results=str(output_dir / "results.json"))))


if __name__ == "__main__":
    run_main(main)
