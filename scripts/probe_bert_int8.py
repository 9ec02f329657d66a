"""Why a pretrained BERT's full-int8 TFLite file disagrees with Keras: a cheap probe (README, MiniLM).

MiniLM as shipped (mean pooling) with a logistic-regression head fitted on float features of a few MR
training sentences, no fine-tuning: minutes instead of a 45-minute run. Prints the largest and median
activation of the feed-forward output and of the residual sum entering each block's second layer norm
(the outlier channels), then converts int8 files (as exported, and with `--deny` operator types kept
float, `export.convert`'s deny list) and reports test accuracy, top-1 agreement with Keras and RMS logit
error on the test sentences, short (mostly padding) and long ones apart.

    python scripts/probe_bert_int8.py --deny=,ADD,MUL,MEAN,SQUARED_DIFFERENCE,RSQRT,NEG
"""

import pathlib
import tempfile

import keras
import numpy as np
from absl import app, flags
from ai_edge_litert.interpreter import Interpreter

import zoo
from export import convert
from zoo import text

flags.DEFINE_string("preset", "all_minilm_l6_v2", "BERT preset to probe.")
flags.DEFINE_integer("sequence_length", 48, "Tokens per text.")
flags.DEFINE_integer("train", 1500, "Training sentences the head is fitted on (the first of them calibrate).")
flags.DEFINE_integer("calibration", 300, "Calibration sentences.")
flags.DEFINE_integer("test", 956, "Test sentences.")
flags.DEFINE_multi_string("deny", [""], "Comma-separated operator types kept float; one int8 file per flag.")
FLAGS = flags.FLAGS
INPUTS = ("token_ids", "padding_mask", "segment_ids")


def texts_and_labels(split, count):
    pairs = [(x.decode(), int(y)) for x, y in split.take(count).as_numpy_iterator()]
    return [x for x, _ in pairs], np.array([y for _, y in pairs])


def token_arrays(model, texts):
    examples = text.token_model_examples(model, texts)
    return [np.stack([example[name] for example in examples]) for name in INPUTS]


def fit_head(model, texts, labels):
    """Sets the logits layer to a logistic regression on the float pooled features: [-z/2, z/2]."""
    from sklearn.linear_model import LogisticRegression

    classifier = text.token_id_model(model)
    features = keras.Model(classifier.inputs, classifier.get_layer("dropout").input)
    regression = LogisticRegression(C=10, max_iter=2000)
    regression.fit(features.predict(token_arrays(model, texts), batch_size=64, verbose=0), labels)
    weights, bias = regression.coef_[0] / 2, regression.intercept_[0] / 2
    classifier.get_layer("logits").set_weights([np.stack([-weights, weights], 1), np.array([-bias, bias])])


def print_outliers(model, ids):
    """Largest and median |value| over real tokens of each block's feed-forward output and second norm's input."""
    backbone = text.token_id_model(model).get_layer("backbone")
    seen, patched = [], []
    for index, block in enumerate(backbone.transformer_layers):
        for name in ("_feedforward_output_dense", "_feedforward_layer_norm"):
            layer, original = getattr(block, name), getattr(block, name).call

            def call(*args, _original=original, _label=f"block {index} {name[1:]}", **kwargs):
                outputs = _original(*args, **kwargs)
                seen.append((_label, np.asarray(outputs if "dense" in _label else args[0])))
                return outputs

            object.__setattr__(layer, "call", call)
            patched.append((layer, original))
    backbone(dict(zip(INPUTS, ids)))
    for layer, original in patched:
        object.__setattr__(layer, "call", original)
    real = ids[1].astype(bool)
    for label, values in seen:
        magnitude = np.abs(values[real])
        channel = int(magnitude.max(0).argmax())
        print(f"{label}: largest {magnitude.max():.1f} (channel {channel}), median {np.median(magnitude):.3f}")


def tflite_logits(path, ids):
    runner = Interpreter(str(path), num_threads=1).get_signature_runner()
    rows = [runner(**{name: part[i : i + 1] for name, part in zip(INPUTS, ids)}) for i in range(len(ids[0]))]
    return np.concatenate([next(iter(row.values())) for row in rows])


def main(argv):
    del argv
    splits = zoo.get_task("text_classification").load_data("mr", seed=0)
    train_texts, train_labels = texts_and_labels(splits.train, FLAGS.train)
    test_texts, test_labels = texts_and_labels(splits.test, FLAGS.test)
    model = zoo.create_model("bert", 2, preset=FLAGS.preset, pooling="mean", sequence_length=FLAGS.sequence_length)
    fit_head(model, train_texts, train_labels)
    classifier = text.token_id_model(model)
    ids = token_arrays(model, test_texts)
    print_outliers(model, [part[:64] for part in ids])
    reference = classifier.predict(ids, batch_size=64, verbose=0)
    print(f"keras: test {np.mean(reference.argmax(1) == test_labels):.4f}")
    calibration = text.token_model_examples(model, train_texts[: FLAGS.calibration])
    short = ids[1].sum(1) < 20
    with tempfile.TemporaryDirectory() as tmp:
        for deny in FLAGS.deny:
            path = pathlib.Path(tmp) / "model_int8.tflite"
            operators = [name for name in deny.split(",") if name]
            metadata = dict(int8_float_operators=operators) if operators else None
            convert.to_tflite(classifier, path, "int8", representative_data=calibration, metadata=metadata)
            logits = tflite_logits(path, ids)
            agree = logits.argmax(1) == reference.argmax(1)
            print(
                f"int8, float {operators or 'none'}: {path.stat().st_size / 1e6:.1f} MB, test "
                f"{np.mean(logits.argmax(1) == test_labels):.4f}, agreement {agree.mean():.4f} (short "
                f"{agree[short].mean():.3f}, long {agree[~short].mean():.3f}), RMS logit error "
                f"{np.sqrt(np.mean((logits - reference) ** 2)):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    app.run(main)
