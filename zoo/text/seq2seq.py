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
