"""Sequence-to-sequence translation models: token ids in for training, strings in and out for use.

A `Translator` wraps an encoder-decoder `network` that maps `{source_ids, target_ids}` (the
target shifted right, teacher forcing) to next-token logits, with its two tokenizations:

- source (English): keras-hub's `WordPieceTokenizer` (lower-cased; Wu et al. 2016) on a vocabulary
  learned from the training split (`word_piece_vocabulary`);
- target (Chinese): one token per character (`character_vocabulary`), looked up with
  `keras.layers.StringLookup`, framed by keras-hub's `StartEndPacker`; joined back without spaces.

`fit` tokenizes `(source text, target text)` batches in the tf.data pipeline, as keras-hub's tasks
map their preprocessor, so the training step sees only token ids. `translate(texts)` decodes with
keras-hub's `GreedySampler` (or `BeamSampler` when `num_beams > 1`), each step re-running the
decoder on the prefix so far (no cache: short sentences, small models).
"""

import collections

import keras
import tensorflow as tf

from zoo.errors import ZooError

PAD, UNK, START, END = "[PAD]", "[UNK]", "[START]", "[END]"
SPECIAL_TOKENS = [PAD, UNK, START, END]  # ids 0-3 on both sides
PAD_ID, START_ID, END_ID = 0, 2, 3
SEQUENCE_LENGTH = 32  # tokens per sentence on each side (99.9% of Tatoeba's Chinese sentences fit)
MAX_TOKENS = 4000  # the English WordPiece vocabulary asked for, special tokens included
BATCH_SIZE = 256  # sentences translated at once


def word_piece_vocabulary(texts, max_tokens=MAX_TOKENS):
    """A lower-cased WordPiece vocabulary of at most `max_tokens` pieces learned from `texts` (a list of str).

    tensorflow-text's learner keeps only pieces seen often enough, so a small corpus yields fewer.
    """
    import keras_hub

    dataset = tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024)
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        dataset, max_tokens, lowercase=True, reserved_tokens=SPECIAL_TOKENS
    )


def character_vocabulary(texts, max_tokens=None):
    """The special tokens, then the characters of `texts`, most frequent first (ties in first-seen order)."""
    counts = collections.Counter(character for text in texts for character in text)
    characters = [character for character, _ in counts.most_common(max_tokens and max_tokens - len(SPECIAL_TOKENS))]
    return SPECIAL_TOKENS + characters


def _trimmed(ids, shortest):
    """`ids` (right-padded with 0) without the columns that are padding in every row; at least `shortest`."""
    longest = tf.reduce_max(tf.reduce_sum(tf.cast(ids != PAD_ID, tf.int32), axis=1))
    return ids[:, : tf.maximum(longest, shortest)]


@keras.saving.register_keras_serializable(package="zoo")
class GreedyDecoder(keras.layers.Layer):
    """Greedy decoding as one `tf.while_loop` over a fixed-length prefix: source ids `(batch, length)` in,
    target ids `(batch, length)` out (`[START]`, tokens, `[END]`, then `[PAD]`), what the TFLite file holds.

    Each step re-runs `network` on the whole padded prefix (no cache) and writes the argmax of the logits
    at the last filled position; the loop ends when every row has written `[END]` or the prefix is full.
    It converts to TFLite's builtin `WHILE` operator: the file holds the whole decoding loop.
    """

    def __init__(self, network, sequence_length, **kwargs):
        super().__init__(**kwargs)
        if isinstance(network, dict):
            network = keras.saving.deserialize_keras_object(network)
        self.network, self.sequence_length = network, int(sequence_length)

    def call(self, source_ids):
        length = self.sequence_length
        source_ids = tf.cast(source_ids, tf.int32)
        batch = tf.shape(source_ids)[0]
        positions = tf.range(length)[None]
        ids = tf.concat([tf.fill([batch, 1], START_ID), tf.zeros([batch, length - 1], tf.int32)], axis=1)

        def unfinished(index, ids, done):
            return tf.logical_and(index < length, tf.logical_not(tf.reduce_all(done)))

        def step(index, ids, done):
            logits = self.network(dict(source_ids=source_ids, target_ids=ids), training=False)
            chosen = tf.cast(tf.argmax(tf.gather(logits, index - 1, axis=1), axis=-1), tf.int32)
            chosen = tf.where(done, PAD_ID, chosen)
            ids = tf.where(positions == index, chosen[:, None], ids)
            return index + 1, ids, tf.logical_or(done, chosen == END_ID)

        start = (tf.constant(1), ids, tf.zeros([batch], tf.bool))
        return tf.while_loop(unfinished, step, start, maximum_iterations=length - 1)[1]

    def compute_output_spec(self, source_ids):
        return keras.KerasTensor((source_ids.shape[0], self.sequence_length), dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update(network=keras.saving.serialize_keras_object(self.network), sequence_length=self.sequence_length)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class SourceIds(keras.layers.Layer):
    """Source texts (str) -> WordPiece ids `(batch, sequence_length)` int32, as `Translator.source_ids`:
    the SavedModel's tokenizer (the TFLite file takes the ids)."""

    def __init__(self, vocabulary, sequence_length, **kwargs):
        super().__init__(**kwargs)
        import keras_hub

        self.vocabulary, self.sequence_length = list(vocabulary), int(sequence_length)
        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.vocabulary, lowercase=True, sequence_length=self.sequence_length, oov_token=UNK
        )

    def call(self, texts):
        return tf.cast(self.tokenizer(texts), tf.int32)

    def compute_output_spec(self, texts):
        return keras.KerasTensor((texts.shape[0], self.sequence_length), dtype="int32")

    def get_config(self):
        return dict(super().get_config(), vocabulary=self.vocabulary, sequence_length=self.sequence_length)


def ended(ids):
    """Decoded target ids (numpy, `(batch, length)`) with everything after each row's first `[END]` set to
    `[PAD]`: the tokens that make the translation (keras-hub's samplers keep writing after it)."""
    import numpy as np

    ids = np.array(ids, np.int32)
    after = np.cumsum(ids == END_ID, axis=1) - (ids == END_ID) > 0
    ids[after] = PAD_ID
    return ids


@keras.saving.register_keras_serializable(package="zoo")
class Translator(keras.Model):
    """An encoder-decoder `network` on token ids, with the tokenizers that turn text into them and back.

    Call it on `{source_ids, target_ids}` (int32, `(batch, sequence_length)`) for next-token logits;
    `translate(texts)` for translations (str in, str out).
    """

    def __init__(self, network, source_vocabulary, target_vocabulary, sequence_length, num_beams=1, **kwargs):
        super().__init__(**kwargs)
        import keras_hub

        if isinstance(network, dict):
            network = keras.saving.deserialize_keras_object(network)
        self.network = network
        self.source_vocabulary, self.target_vocabulary = list(source_vocabulary), list(target_vocabulary)
        self.sequence_length, self.num_beams = int(sequence_length), int(num_beams)
        self.source_tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.source_vocabulary, lowercase=True, sequence_length=self.sequence_length, oov_token=UNK
        )
        self.target_lookup = keras.layers.StringLookup(
            vocabulary=self.target_vocabulary[2:], mask_token=PAD, oov_token=UNK, num_oov_indices=1
        )
        self.target_packer = keras_hub.layers.StartEndPacker(
            self.sequence_length + 1, start_value=START_ID, end_value=END_ID, pad_value=PAD_ID
        )
        if num_beams > 1:
            self.sampler = keras_hub.samplers.BeamSampler(num_beams=self.num_beams)
        else:
            self.sampler = keras_hub.samplers.GreedySampler()
        self._generate = None
        self.built = True  # the network's variables exist already

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def get_config(self):
        return dict(
            name=self.name,
            network=keras.saving.serialize_keras_object(self.network),
            source_vocabulary=self.source_vocabulary,
            target_vocabulary=self.target_vocabulary,
            sequence_length=self.sequence_length,
            num_beams=self.num_beams,
        )

    # Tokenization.
    def source_ids(self, texts):
        """int32 `(batch, sequence_length)` WordPiece ids of a batch of source texts (cut, or padded with 0)."""
        return tf.cast(self.source_tokenizer(texts), tf.int32)

    def target_ids(self, texts):
        """int32 `(batch, sequence_length + 1)`: `[START]`, the texts' characters, `[END]`, padding."""
        characters = tf.strings.unicode_split(texts, "UTF-8", errors="replace")
        return tf.cast(self.target_packer(self.target_lookup(characters)), tf.int32)

    def training_batch(self, sources, targets):
        """`(inputs, next tokens, weights)` of a batch of text pairs: teacher forcing, padding weighted 0.

        Both sides are cut to the batch's longest sentence: most are far shorter than `sequence_length`,
        and a step costs in proportion to the tokens it runs."""
        source, target = _trimmed(self.source_ids(sources), 1), _trimmed(self.target_ids(targets), 2)
        following = target[:, 1:]
        inputs = dict(source_ids=source, target_ids=target[:, :-1])
        return inputs, following, tf.cast(following != PAD_ID, tf.float32)

    def _tokenized(self, dataset):
        return None if dataset is None else dataset.map(self.training_batch, num_parallel_calls=tf.data.AUTOTUNE)

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        """Trains on a `tf.data.Dataset` of batched `(source texts, target texts)`, tokenized on the fly."""
        return super().fit(self._tokenized(x), y, validation_data=self._tokenized(validation_data), **kwargs)

    # Decoding.
    def generate_ids(self, source_ids):
        """Decoded target ids `(batch, sequence_length)` of source ids: `[START]`, tokens, `[END]`, anything."""
        batch = tf.shape(source_ids)[0]
        prompt = tf.concat(
            [tf.fill([batch, 1], START_ID), tf.zeros([batch, self.sequence_length - 1], tf.int32)], axis=1
        )

        def next_logits(prompt, cache, index):
            logits = self.network(dict(source_ids=cache, target_ids=prompt), training=False)
            return tf.gather(logits, index - 1, axis=1), None, cache

        # The source ids travel as the sampler's "cache", which BeamSampler repeats for each beam.
        return self.sampler(next_logits, prompt, cache=source_ids, index=1, stop_token_ids=[END_ID])

    def decoding_model(self, text_input=False):
        """A Keras model of the greedy decoding loop on token ids, `source_ids` `(batch, sequence_length)` int32
        -> target ids `(batch, sequence_length)` int32 (`GreedyDecoder`): what the TFLite file runs; with
        `text_input`, it takes source texts (str) and tokenizes them first (the SavedModel)."""
        if text_input:
            inputs = keras.Input((), dtype="string", name="text")
            source = SourceIds(self.source_vocabulary, self.sequence_length, name="source_ids")(inputs)
        else:
            inputs = source = keras.Input((self.sequence_length,), dtype="int32", name="source_ids")
        ids = GreedyDecoder(self.network, self.sequence_length, name="greedy_decoder")(source)
        return keras.Model(inputs, ids, name="greedy_translator")

    def detokenize(self, ids):
        """The texts of decoded target ids: the characters after `[START]` up to the first `[END]`."""
        ids = tf.convert_to_tensor(ids)[:, 1:]
        ended = tf.cumsum(tf.cast(ids == END_ID, tf.int32), axis=1) > 0
        keep = tf.logical_and(ids >= len(SPECIAL_TOKENS), tf.logical_not(ended))
        pieces = tf.where(keep, tf.gather(tf.constant(self.target_vocabulary), ids), "")
        return tf.strings.reduce_join(pieces, axis=1)

    def translate(self, texts, batch_size=BATCH_SIZE):
        """Translations of `texts` (a str, or a list of str): a str, or a list of str."""
        single = isinstance(texts, str)
        batch = [texts] if single else texts
        if not isinstance(batch, (list, tuple)) or not all(isinstance(text, str) for text in batch):
            raise ZooError(f"translate takes a str or a list of str. Received: {type(texts).__name__}")
        if self._generate is None:
            self._generate = tf.function(lambda texts: self.detokenize(self.generate_ids(self.source_ids(texts))))
        outputs = []
        for start in range(0, len(batch), batch_size):
            chunk = tf.constant(list(batch[start : start + batch_size]), tf.string)
            outputs += [text.decode("utf-8") for text in self._generate(chunk).numpy()]
        return outputs[0] if single else outputs
