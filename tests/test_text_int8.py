"""The transformer's full-int8 TFLite file on padded texts: the attention mask keeps
the scores' int8 range small, so the file agrees with Keras; padding is still ignored."""

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import zoo
from export import convert
from zoo.text import attention, token_id_model

pytestmark = pytest.mark.slow  # conversions and trainings: the full suite only

SEQUENCE_LENGTH = 16
SMALL = {"hidden_dim": 16, "num_layers": 1, "intermediate_dim": 32}
POSITIVE, NEGATIVE = ["good", "great", "fine", "superb"], ["bad", "awful", "dull", "poor"]
FILLER = ["the", "film", "was", "a", "plot", "and", "very", "it", "story", "cast"]
VOCABULARY = POSITIVE + NEGATIVE + FILLER


def to_tflite(model, path, flavour, representative_data=None):
    """The one call of the export's converter here."""
    convert.to_tflite(model, path, flavour=flavour, representative_data=representative_data)
    return path


def synthetic_token_ids(count, seed):
    """Texts of up to 10 filler words with one positive and one negative word, as
    token ids padded to SEQUENCE_LENGTH (0 is padding, 1 out-of-vocabulary).

    Label 1 when the positive word comes first: word order, which a bag of words
    (or attention averaged over every token) cannot tell.
    """
    rng = np.random.default_rng(seed)
    token_ids = np.zeros((count, SEQUENCE_LENGTH), np.int32)
    labels = rng.integers(0, 2, count)
    for row, label in enumerate(labels):
        words = list(rng.choice(FILLER, rng.integers(0, 11)))
        first, second = sorted(rng.choice(len(words) + 2, 2, replace=False))
        pair = [rng.choice(POSITIVE), rng.choice(NEGATIVE)]
        words.insert(first, pair[1 - label])
        words.insert(second, pair[label])
        token_ids[row, : len(words)] = [VOCABULARY.index(word) + 2 for word in words]
    return token_ids, labels


def build(sequence_length=SEQUENCE_LENGTH):
    keras.utils.set_random_seed(0)
    model = zoo.create_model("transformer", 2, vocabulary=VOCABULARY, sequence_length=sequence_length, **SMALL)
    return token_id_model(model)


def tflite_logits(path, token_ids):
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    (input_detail,), (output_detail,) = interpreter.get_input_details(), interpreter.get_output_details()
    logits = []
    for row in token_ids:
        interpreter.set_tensor(input_detail["index"], row[None])
        interpreter.invoke()
        logits.append(interpreter.get_tensor(output_detail["index"]))
    scale, zero_point = output_detail["quantization"]
    logits = np.concatenate(logits).astype(np.float32)
    return (logits - zero_point) * scale if scale else logits  # float32 scores (zoo's default) as they are


def softmax_input_scales(path):
    """The int8 scale of every SOFTMAX input in a TFLite file."""
    interpreter = Interpreter(model_path=str(path))
    tensors = {tensor["index"]: tensor for tensor in interpreter.get_tensor_details()}
    return [
        tensors[op["inputs"][0]]["quantization"][0]
        for op in interpreter._get_ops_details()
        if op["op_name"] == "SOFTMAX"
    ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small transformer trained on synthetic padded texts, and its int8 file."""
    model = build()
    token_ids, labels = synthetic_token_ids(256, seed=0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(token_ids, labels, batch_size=16, epochs=20, verbose=0)
    path = tmp_path_factory.mktemp("int8") / "model_int8.tflite"
    return model, to_tflite(model, path, "int8", representative_data=list(token_ids[:64]))


def test_int8_attention_scores_keep_a_fine_scale(trained):
    # With Keras's -1e9 fill the scores' scale was about 4e6: all real scores
    # rounded to one value. The fill bounds it by (|mask_fill| + real scores) / 255.
    scales = softmax_input_scales(trained[1])
    assert scales and max(scales) < 2 * abs(attention.MASK_FILL) / 255


def test_int8_layer_norms_avoid_squared_difference(trained):
    # XNNPACK does not run SQUARED_DIFFERENCE in int8 (Keras's LayerNormalization uses it).
    ops = {op["op_name"] for op in Interpreter(model_path=str(trained[1]))._get_ops_details()}
    assert "MEAN" in ops and "SQUARED_DIFFERENCE" not in ops


def test_int8_file_agrees_with_keras_on_padded_texts(trained):
    model, path = trained
    token_ids, labels = synthetic_token_ids(200, seed=1)
    keras_logits = np.asarray(model(token_ids, training=False))
    int8_logits = tflite_logits(path, token_ids)
    assert (keras_logits.argmax(1) == labels).mean() > 0.8  # it learned the order
    # With Keras's -1e9 fill, int8 attention was a plain average: about 50% agreement.
    assert (int8_logits.argmax(1) == keras_logits.argmax(1)).mean() >= 0.95


def test_appended_padding_leaves_logits_unchanged(tmp_path):
    long_model, short_model = build(), build(sequence_length=6)
    for long_weight, short_weight in zip(long_model.weights, short_model.weights):
        short_weight.assign(long_weight[: short_weight.shape[0]])  # position embeddings: first rows
    token_ids = np.array([[3, 9, 12, 5, 17, 2], [4, 11, 1, 8, 0, 0]], np.int32)
    padded = np.pad(token_ids, [(0, 0), (0, SEQUENCE_LENGTH - 6)])
    np.testing.assert_allclose(long_model(padded, training=False), short_model(token_ids, training=False), atol=1e-5)

    long_model.save(tmp_path / "token_classifier.keras")
    restored = keras.saving.load_model(tmp_path / "token_classifier.keras")  # safe mode
    assert isinstance(restored.get_layer("encoder0_attention"), attention.BoundedMaskAttention)
    np.testing.assert_array_equal(restored(padded), long_model(padded))
