"""Shipped text encoders: a pretrained BERT encoder and its WordPiece vocabulary, usable as `preset=NAME`.

An encoder entry (`"kind": "encoder"`, e.g. `bert_tiny_mr`) ships one compressed npz:
the encoder's variables as float16, keyed by variable path, and its vocabulary
under `VOCABULARY`. `zoo.create_model("bert", preset=NAME)` (and
`text_classify --model=bert --preset=NAME`) builds the encoder of the entry's
size from it, offline, to fine-tune; `save_encoder` writes such a file.
"""

import numpy as np

from zoo.errors import ZooError
from zoo.pretrained import manifest
from zoo.pretrained.loading import weights_path
from zoo.pretrained.weights_file import read_weights, save_float16_weights

VOCABULARY = "tokenizer/vocabulary"  # the npz key of the WordPiece vocabulary, in id order


def is_encoder(name, manifest_path=None):
    """Whether `name` is an encoder entry of the manifest (a string that is not one is a size or a folder)."""
    if not isinstance(name, str):
        return False
    entry = manifest.read_manifest(manifest_path).get(name)
    return entry is not None and manifest.is_encoder_entry(entry)


def save_encoder(backbone, vocabulary, path):
    """Writes `backbone`'s variables as float16 and `vocabulary` (a list of tokens) to `path`, atomically."""
    save_float16_weights(backbone, path, extras={VOCABULARY: np.array(vocabulary, dtype=str)})


def load_encoder(name, manifest_path=None):
    """Returns `(entry, vocabulary, {variable path: array})` of the encoder entry `name`, its file verified."""
    entry = manifest.find_entry(name, manifest_path)
    if not manifest.is_encoder_entry(entry):
        raise ZooError(f"{name} is not an encoder entry: pass one of {', '.join(list_encoders(manifest_path))}.")
    weights = read_weights(weights_path(entry, None, manifest_path))
    if VOCABULARY not in weights:
        raise ZooError(f"{entry['file']} holds no vocabulary: it is not an encoder file.")
    vocabulary = [str(token) for token in weights.pop(VOCABULARY)]
    return entry, vocabulary, weights


def list_encoders(manifest_path=None):
    """The sorted names of the manifest's encoder entries."""
    return sorted(
        name for name, entry in manifest.read_manifest(manifest_path).items() if manifest.is_encoder_entry(entry)
    )
