"""Translation datasets: sentence pairs (source, target), split 80/10/10 by source sentence.

`tatoeba_en_zh` is embedded (26,099 English-Chinese pairs from Tatoeba, CC-BY 2.0 France; see
`data/README.md`); `tsv:FILE` reads your own pairs, one `source<TAB>target` per line. Every
translation of one source sentence lands in the same split, so a test sentence is never seen
in training under another translation.
"""

import gzip
import importlib.resources
import pathlib

import numpy as np
import tensorflow as tf

from zoo.datasets.splits import Splits, digest_of, shuffled_split_indices
from zoo.errors import ZooError

TATOEBA = "tatoeba_en_zh"
SPLIT_NAMES = ("train", "validation", "test")


def tatoeba_rows():
    """The embedded pairs as `(english, chinese, attribution)` rows, in the source's order."""
    path = importlib.resources.files("zoo.datasets") / "data/tatoeba_en_zh.tsv.gz"
    with path.open("rb") as f:
        lines = gzip.decompress(f.read()).decode("utf-8").split("\n")
    return [tuple(line.split("\t")) for line in lines if line]


def read_tsv(path):
    """`(source, target)` pairs of a UTF-8 file, one `source<TAB>target` per line (more columns are ignored,
    blank lines skipped); a line without a tab, or with an empty side, is a `ZooError` naming it."""
    file = pathlib.Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ZooError(f"{str(file)!r} is not UTF-8 text: re-encode it, e.g. `iconv -f gb18030 -t utf-8`.") from None
    except OSError as error:
        raise ZooError(f"Cannot read {str(file)!r} ({error.strerror}): pass tsv:FILE of a text file.") from None
    pairs = []
    for number, line in enumerate(text.split("\n"), start=1):  # "\n" only: splitlines() also splits at \x85
        if not line.strip():
            continue
        if "\t" not in line:
            raise ZooError(f"{file.name} line {number} has no tab: write `source<TAB>target` on each line.")
        source, target = (part.strip() for part in line.rstrip("\r").split("\t")[:2])
        if not source or not target:
            side = "source" if not source else "target"
            raise ZooError(f"{file.name} line {number} has an empty {side} sentence: fill or delete the line.")
        pairs.append((source, target))
    return pairs


def split_by_source(pairs, seed):
    """Three lists of pairs, 80/10/10 of the distinct source sentences (in first-seen order) by `seed`."""
    sources = list(dict.fromkeys(source for source, _ in pairs))
    part_of = {}
    for part, indices in enumerate(shuffled_split_indices(len(sources), seed)):
        part_of.update((sources[index], part) for index in indices)
    parts = ([], [], [])
    for pair in pairs:
        parts[part_of[pair[0]]].append(pair)
    return parts


def _dataset(part):
    sources = np.array([source for source, _ in part], dtype=object)
    targets = np.array([target for _, target in part], dtype=object)
    return tf.data.Dataset.from_tensor_slices((sources, targets))


def load_translation_dataset(name, seed=0, data_dir=None):
    """The `Splits` of a translation dataset: unbatched `(tf.string source, tf.string target)` pairs.

    `splits.extras["pairs"]` holds each split's pairs as Python `(source, target)` tuples (for scoring).

    Args:
        name: `tatoeba_en_zh` (embedded) or `tsv:FILE`.
        seed: seed of the 80/10/10 split of the distinct source sentences.
        data_dir: unused (no tfds translation sets).
    """
    if name == TATOEBA:
        pairs = [(english, chinese) for english, chinese, _ in tatoeba_rows()]
    elif name.startswith("tsv:"):
        pairs = read_tsv(name.removeprefix("tsv:"))
    else:
        raise ZooError(f"Unknown translation dataset {name!r}: use {TATOEBA}, or tsv:FILE (source<TAB>target lines).")
    parts = split_by_source(pairs, seed)
    digest = digest_of([[f"{source}\t{target}" for source, target in part] for part in parts])
    return Splits(
        name=name,
        train=_dataset(parts[0]),
        validation=_dataset(parts[1]),
        test=_dataset(parts[2]),
        class_names=[],
        input_shape=(),
        task="translation",
        digest=digest,
        notes=dict(pairs={split: len(part) for split, part in zip(SPLIT_NAMES, parts)}),
        extras=dict(pairs=dict(zip(SPLIT_NAMES, parts))),
    )
