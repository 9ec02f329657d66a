"""Bigram ids formed inside a model from word ids, with builtin TFLite integer ops.

MediaPipe's regex tokenizer gives one id per word, so `nbsvm` forms its bigram
features itself. A bigram of word ids (a, b) has the key `a * V + b` (V = word ids,
padding and unknown included; exact in int32 while V <= 46,340). The training
split's most frequent bigrams are stored in a two-choice hash table: bigram k (0 = the
most frequent) has feature id `V + 1 + k` and sits in slot `key mod P1` or, if another
key took that slot, in slot `P1 + key mod P2` (P1, P2 primes); one that finds both
slots taken is left out (`BigramTable.dropped`). At run time each pair looks in its two
slots and takes the feature id stored with its own key; any other bigram (unseen, or left
out) is feature `V` ("unknown bigram"), and a pair with padding is 0 (no feature). The
lookups are exact: no two bigrams share a feature.
"""

import keras
import numpy as np

from zoo.errors import ZooError

PRIMES = (131_071, 131_063)  # slots of the two hash choices: 262,134 in all
MAX_WORD_IDS = 46_340  # the largest V whose keys V * V - 1 fit in int32
EMPTY = -1


def check_word_ids(word_ids):
    if word_ids > MAX_WORD_IDS:
        raise ZooError(
            f"Bigram keys need at most {MAX_WORD_IDS:,} word ids (padding and unknown included) to fit in int32. "
            f"Received: {word_ids:,}; pass a smaller max_tokens."
        )


def pair_keys(word_ids, token_ids):
    """`(keys, valid)` of each pair of neighbouring ids of `token_ids` `(texts, length)` (numpy)."""
    first, second = np.asarray(token_ids[:, :-1], np.int64), np.asarray(token_ids[:, 1:], np.int64)
    return first * word_ids + second, (first != 0) & (second != 0)


def frequent_bigrams(word_ids, token_ids, max_bigrams):
    """The keys of the `max_bigrams` bigrams in the most texts of `token_ids`, most frequent first
    (ties by key), counting each text's distinct bigrams once."""
    keys, valid = pair_keys(word_ids, token_ids)
    distinct = np.unique(
        np.stack([np.repeat(np.arange(len(keys)), keys.shape[1]), keys.ravel()], 1)[valid.ravel()], axis=0
    )
    unique, counts = np.unique(distinct[:, 1], return_counts=True)
    order = np.lexsort((unique, -counts))
    return unique[order][:max_bigrams].tolist()


def slot_table(word_ids, bigrams):
    """`(slot_keys, slot_features, dropped)`: the two-choice table of `bigrams` (keys, most frequent first)."""
    check_word_ids(word_ids)
    slot_keys = np.full(sum(PRIMES), EMPTY, np.int32)
    slot_features = np.full(sum(PRIMES), word_ids, np.int32)
    dropped = 0
    for rank, key in enumerate(bigrams):
        for slot in (key % PRIMES[0], PRIMES[0] + key % PRIMES[1]):
            if slot_keys[slot] == EMPTY:
                slot_keys[slot], slot_features[slot] = key, word_ids + 1 + rank
                break
        else:
            dropped += 1
    return slot_keys, slot_features, dropped


@keras.saving.register_keras_serializable(package="zoo")
class BigramFeatures(keras.layers.Layer):
    """Word ids `(batch, length)` -> the words' ids, then their `length - 1` bigrams' feature ids.

    Args:
        word_ids: V, the number of word ids (vocabulary + padding + unknown).
        bigrams: the bigram keys the table holds, most frequent first (`frequent_bigrams`).
        num_bigrams: instead of `bigrams`, when loading: their number (the table is in the weights).
    """

    def __init__(self, word_ids, bigrams=(), num_bigrams=None, **kwargs):
        super().__init__(**kwargs)
        self.word_ids, self.num_bigrams = int(word_ids), len(bigrams) if num_bigrams is None else int(num_bigrams)
        slot_keys, slot_features, self.dropped = slot_table(self.word_ids, [int(key) for key in bigrams])
        self.slot_keys = self.add_weight(
            shape=slot_keys.shape, dtype="int32", initializer="zeros", trainable=False, name="slot_keys"
        )
        self.slot_features = self.add_weight(
            shape=slot_features.shape, dtype="int32", initializer="zeros", trainable=False, name="slot_features"
        )
        self.slot_keys.assign(slot_keys)
        self.slot_features.assign(slot_features)

    @property
    def features(self):
        """Feature ids: words, unknown bigram, the table's bigrams."""
        return self.word_ids + 1 + self.num_bigrams

    def call(self, token_ids):
        ops = keras.ops
        token_ids = ops.cast(token_ids, "int32")
        first, second = token_ids[:, :-1], token_ids[:, 1:]
        keys = first * self.word_ids + second
        choices = [ops.mod(keys, PRIMES[0]), PRIMES[0] + ops.mod(keys, PRIMES[1])]
        feature = ops.full_like(keys, self.word_ids)
        for slot in reversed(choices):
            found = ops.equal(ops.take(self.slot_keys, slot), keys)
            feature = ops.where(found, ops.take(self.slot_features, slot), feature)
        feature = ops.where(ops.logical_and(first != 0, second != 0), feature, ops.zeros_like(feature))
        return ops.concatenate([token_ids, feature], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[1] - 1)

    def get_config(self):
        return {**super().get_config(), "word_ids": self.word_ids, "num_bigrams": self.num_bigrams}
