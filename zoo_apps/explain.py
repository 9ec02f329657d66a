"""Explains a trained classifier's answers: which pixels, tokens or features made it answer as it did.

    python -m zoo_apps.explain --model_dir=runs/cnn_mnist_5k digit.png [more.png ...]
    python -m zoo_apps.explain --model_dir=runs/textcnn_mr "A gem of a film." "Dull."
    python -m zoo_apps.explain --model_dir=runs/logistic_regression_breast_cancer --csv=rows.csv

Images get Integrated Gradients (from a black image) and, for convolutional models, Grad-CAM of the
last convolution, as heatmap overlays `<image>_<method>.png`; sentences get Integrated Gradients on
the token embeddings, printed per token and coloured in `tokens.html`; table rows get Integrated
Gradients of the numeric features from the training means, as bars `row<n>.png`. The explained
class is the predicted one unless --target names another. Output goes to --output_dir
(default <model_dir>/explain/).
"""

import pathlib

import numpy as np
from absl import flags

from zoo.cli import run_cli
from zoo.errors import ZooError
from zoo.explainability import METHODS, explain_loaded, explainers, render
from zoo.tasks.image_input import load_image


def define_flags(flag_values):
    define = dict(flag_values=flag_values)
    flags.DEFINE_string("model_dir", None, "A finished run's folder (holding model.keras).", **define)
    flags.DEFINE_string("output_dir", None, "Where the pictures go; default <model_dir>/explain/.", **define)
    flags.DEFINE_enum("method", "all", ["all", *METHODS], "all: every method the model allows.", **define)
    flags.DEFINE_string("csv", None, "Table rows to explain (a CSV file with the run's feature columns).", **define)
    flags.DEFINE_integer(
        "target", None, "Class index to explain; default the predicted class.", lower_bound=0, **define
    )
    flags.DEFINE_integer("steps", None, "Integrated Gradients' starting number of intervals (default 64).", **define)


def _methods(flag_values, kind, model):
    if flag_values.method != "all":
        return [flag_values.method]
    has_conv = kind == "image" and explainers.gradients.last_conv_layer(model) is not None
    return list(METHODS) if has_conv else ["integrated_gradients"]


def _checked_inputs(flag_values, args, kind):
    if kind == "table":
        if args or not flag_values.csv:
            raise ZooError("A table model explains the rows of --csv=FILE, not positional arguments.")
        if not pathlib.Path(flag_values.csv).is_file():
            raise ZooError(f"--csv={flag_values.csv} is not a file.")
        return flag_values.csv
    if flag_values.csv:
        raise ZooError(f"--csv is for table models; this is a {kind} model: pass {kind}s as arguments.")
    if not args:
        raise ZooError(f"Pass one or more {'image files' if kind == 'image' else 'sentences'} to explain.")
    return args


def run(flag_values, args):
    if not flag_values.model_dir:
        raise ZooError("Pass --model_dir=RUN, a finished run's folder (see --help).")
    model_dir = pathlib.Path(flag_values.model_dir).expanduser()
    if not model_dir.is_dir():
        raise ZooError(f"--model_dir={model_dir} is not a folder: pass a finished run's --model_dir.")
    model, info = explainers.load_model(model_dir)
    kind = explainers.input_kind(model)
    inputs = _checked_inputs(flag_values, args, kind)
    output = pathlib.Path(flag_values.output_dir or model_dir / "explain")
    if kind == "image":
        inputs = np.stack([load_image(path, tuple(model.input_shape[1:])) for path in args])
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for method in _methods(flag_values, kind, model):
        explanation = explain_loaded(model, info, inputs, method, flag_values.target, flag_values.steps)
        written += WRITERS[kind](explanation, inputs, args, output)
    for path in written:
        print(f"wrote {path}")
    return written


def _headline(explanation, index, name):
    line = f"{name}: {render.class_name(explanation, index)} (logit {explanation.scores[index]:.3f})"
    if explanation.baseline_scores is not None:
        line += f"; attributions sum to {explanation.scores[index] - explanation.baseline_scores[index]:+.3f} "
        line += f"within {100 * explanation.completeness_error()[index]:.2f}%"
    print(f"[{explanation.method}] {line}")
    return line


def write_images(explanation, images, names, output):
    paths = []
    for index, name in enumerate(names):
        _headline(explanation, index, name)
        title = f"{pathlib.Path(name).name}: {render.class_name(explanation, index)}"
        path = output / f"{pathlib.Path(name).stem}_{explanation.method}.png"
        render.image_overlay(images[index], explanation.attributions[index], explanation.method, title, path)
        paths.append(path)
    return paths


def write_texts(explanation, texts, names, output):
    rows = []
    for index, text in enumerate(texts):
        title = _headline(explanation, index, repr(text))
        tokens = explanation.tokens[index]
        scores = explanation.attributions[index][: len(tokens)]
        print("\n".join("  " + line for line in render.token_lines(tokens, scores)))
        rows.append((title, tokens, scores))
    render.token_html(rows, output / "tokens.html")
    return [output / "tokens.html"]


def write_rows(explanation, csv_path, names, output):
    paths = []
    for index in range(len(explanation.targets)):
        title = _headline(explanation, index, f"row {index + 1}")
        scores = explanation.attributions[index]
        top = np.argsort(-np.abs(scores), kind="stable")[:5]
        print("  " + ", ".join(f"{explanation.feature_names[i]} {scores[i]:+.3f}" for i in top))
        path = output / f"row{index + 1}.png"
        render.feature_bars(explanation.feature_names, scores, title, path)
        paths.append(path)
    return paths


WRITERS = dict(image=write_images, text=write_texts, table=write_rows)


def main(argv=None):
    return run_cli(run, define_flags, argv, doc=__doc__, program="python -m zoo_apps.explain", positional=True)


if __name__ == "__main__":
    main()
