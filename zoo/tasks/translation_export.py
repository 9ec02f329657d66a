"""The translation task's export: a file with the greedy decoding loop inside, its fidelity gate, decoding.

The TFLite file takes one sentence's WordPiece ids and returns its character ids: the decoding loop is
inside it (`zoo.text.seq2seq.GreedyDecoder`, TFLite's builtin `WHILE`), re-running the network on the
padded prefix each step. The sidecar holds both vocabularies (and the file's metadata both vocabulary
files), so `export.Predictor` tokenizes and detokenizes as the Keras model does.

The gate compares greedy outputs (the ids up to `[END]`) of the file with the Keras model's own decoding
(keras-hub's `GreedySampler`) on the distinct test sentences: the float32 file and the SavedModel must
give identical ids on at least `MIN_IDENTICAL` of them; every file's test BLEU drop (Keras - file) comes
with a paired 95% bootstrap interval, and a file whose interval lies above `MAX_BLEU_DROP` fails.
"""

import numpy as np

from zoo.errors import ZooError
from zoo.tasks import translation_metrics as scoring
from zoo.text import seq2seq

MIN_IDENTICAL = 0.99  # the gate of the lossless files: share of test sentences translated exactly as Keras does
LOSSLESS = ("model_float32.tflite", "saved_model")
MAX_BLEU_DROP = 1.0  # the gate of every file: BLEU points; a drop whose 95% interval lies above this fails
CALIBRATION_SENTENCES = 300  # distinct training sentences for int8 calibration
# (timed invokes, warm-up invokes per round): one invoke translates a whole sentence (milliseconds, not
# microseconds), so far fewer runs than for a classifier give a stable median. Each round's 30 invokes translate
# the last 30 test sentences once each (a random sample of the split): the median is per translated sentence.
LATENCY_RUNS = (7 * 30, 3)
LATENCY_SENTENCES = 30
SOURCE_FILE, TARGET_FILE = "source_vocabulary.txt", "target_vocabulary.txt"


class References(list):
    """Per test sentence, its reference translations (the `labels` of `compare`), with the target vocabulary
    that turns ids into text."""

    def __init__(self, references, target_vocabulary):
        super().__init__(references)
        self.target_vocabulary = list(target_vocabulary)


def texts_of(ids, vocabulary):
    """The texts of decoded target ids (a file's, dequantized to float, or Keras's): the characters after
    `[START]` up to the first `[END]`, special tokens dropped."""
    texts = []
    for row in seq2seq.ended(np.rint(np.asarray(ids, np.float64)).astype(np.int64)):
        characters = []
        for token in row[1:]:
            if token == seq2seq.END_ID:
                break
            if len(seq2seq.SPECIAL_TOKENS) <= token < len(vocabulary):
                characters.append(vocabulary[token])
        texts.append("".join(characters))
    return texts


class KerasGreedy:
    """The Keras model's own greedy translation as token ids (what export compares files with): texts in,
    `seq2seq.ended` target ids `(batch, sequence_length)` out."""

    def __init__(self, translator):
        import tensorflow as tf

        self.translator = translator
        self._run = tf.function(
            lambda texts: translator.generate_ids(translator.source_ids(texts)),
            input_signature=[tf.TensorSpec([None], tf.string)],
        )

    def __call__(self, texts, training=False):
        return seq2seq.ended(self._run(np.asarray([str(text) for text in texts], dtype=object)).numpy())


def compare(outputs, reference, labels):
    """One report row's entries: the share of sentences whose greedy ids equal Keras's, and test BLEU and chrF
    with the paired bootstrap interval of the drop (Keras - file)."""
    ids, keras_ids = seq2seq.ended(np.rint(outputs)), seq2seq.ended(reference)
    identical = np.all(ids == keras_ids, axis=1)
    hypotheses = texts_of(ids[-len(labels) :], labels.target_vocabulary)
    keras_hypotheses = texts_of(keras_ids[-len(labels) :], labels.target_vocabulary)
    scores = scoring.score(hypotheses, list(labels), baseline=keras_hypotheses)
    row = dict(
        bleu=scores["model"]["bleu"],
        chrf=scores["model"]["chrf"],
        identical=float(identical.mean()),
        agreement_examples=int(len(identical)),
    )
    for name in ("bleu", "chrf"):
        low, high = scores["difference"][f"{name}_interval"]
        row[f"{name}_drop"] = 0.0 - scores["difference"][name]  # 0.0 - x: no -0.0
        row[f"{name}_drop_interval"] = [0.0 - high, 0.0 - low]
    return row


def gate(row):
    reasons = []
    if row["file"] in LOSSLESS and row["identical"] < MIN_IDENTICAL:
        reasons.append(
            f"translates {100 * row['identical']:.2f}% of {row['agreement_examples']:,} test sentences exactly as "
            f"Keras does (greedy ids; gate: {100 * MIN_IDENTICAL:.0f}%)"
        )
    low, high = row["bleu_drop_interval"]
    if low > MAX_BLEU_DROP:
        reasons.append(
            f"loses {row['bleu_drop']:.2f} BLEU on the test split (95% interval {low:.2f} to {high:.2f}; gate: "
            f"{MAX_BLEU_DROP:g})"
        )
    return reasons


def export_metadata(model):
    """Sidecar entries: both vocabularies, the length, and what the file's tensors are."""
    length = model.sequence_length
    return dict(
        source_vocabulary=model.source_vocabulary,
        target_vocabulary=model.target_vocabulary,
        sequence_length=length,
        special_tokens=dict(zip(seq2seq.SPECIAL_TOKENS, range(len(seq2seq.SPECIAL_TOKENS)))),
        decoding=f"greedy, inside the file (a WHILE loop of at most {length - 1} steps, the network re-run on "
        "the padded prefix each step)",
        input_description=f"`source_ids`: int32 (1, {length}) lower-cased WordPiece ids of one English sentence "
        f"(`source_vocabulary`, id = index; cut at {length}, padded with 0); the SavedModel takes raw strings",
        output_description=f"`ids`: int32 (1, {length}) character ids (`target_vocabulary`, id = index): [START] "
        "(2), the translation, [END] (3), then [PAD] (0)",
    )


def unsupported_flavours(model):
    """`{flavour: why}`: a recurrent network (`gru_attention`) gets no int8 file; TensorFlow 2.21's int8
    calibrator crashes the process (a segmentation fault) on its recurrent loop inside the decoding loop."""
    import keras

    recurrent = any(isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)) for layer in model.network.layers)
    why = "TensorFlow's int8 calibrator crashes on a recurrent loop inside the decoding loop: use dynamic or float16"
    return dict(int8=why) if recurrent else {}


def tokenizer(predictor):
    """The source WordPiece tokenizer of a file's sidecar (as the Keras model's), built once per predictor."""
    if getattr(predictor, "_source_tokenizer", None) is None:
        import keras_hub

        metadata = predictor.metadata
        if metadata.get("sequence_length") != predictor.file_input_shape[0] or not metadata.get("source_vocabulary"):
            raise ZooError(f"{predictor.path.name}'s sidecar does not describe its input: export it again.")
        predictor._source_tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=metadata["source_vocabulary"],
            lowercase=True,
            sequence_length=metadata["sequence_length"],
            oov_token=seq2seq.UNK,
        )
    return predictor._source_tokenizer


def predictor_inputs(predictor, texts):
    """int32 source ids `(batch, sequence_length)` of a str or a list of str; `ZooError` for anything else
    and for empty texts (nothing to translate)."""
    batch = [texts] if isinstance(texts, str) else texts
    listed = isinstance(batch, (list, tuple)) or (isinstance(batch, np.ndarray) and batch.ndim == 1)
    if not (listed and len(batch) and all(isinstance(text, str) for text in batch)):
        raise ZooError(
            f"{predictor.path.name} translates text: pass a str or a list of str. Received: {type(texts).__name__}"
        )
    empty = [index for index, text in enumerate(batch) if not text.strip()]
    if empty:
        raise ZooError(f"Nothing to translate: text {empty[0] + 1} of {len(batch)} is empty.")
    return np.asarray(tokenizer(predictor)(list(batch)), np.int32)


def vocabulary_file(name, vocabulary, what):
    return dict(
        name=name,
        description=f"{what}, one per line, id = line index.",
        type="VOCABULARY",
        content="".join(f"{token}\n" for token in vocabulary).encode(),
    )
