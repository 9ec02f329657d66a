"""Reading a CSV file into typed columns: numeric, boolean (as 0/1) or categorical.

Types are inferred from the cells: a column whose present cells all parse as
numbers is numeric; one whose cells are all true/false/yes/no (any case) or
0/1 is boolean, kept as the numbers 0 and 1; anything else is categorical.
Missing cells ("", NA, N/A, NaN, null, ?) become NaN in numeric columns and
None in categorical ones.
"""

import csv
import dataclasses
import difflib
import pathlib

import numpy as np

from zoo.errors import ZooError

MISSING = frozenset({"", "na", "n/a", "nan", "null", "?"})
BOOLEANS = {"true": 1.0, "yes": 1.0, "1": 1.0, "false": 0.0, "no": 0.0, "0": 0.0}
# A categorical column with more distinct values than this, and more than half as
# many as it has values, is free text or an identifier, not a category.
MAX_FREE_CATEGORIES = 20


@dataclasses.dataclass
class Column:
    """One column of a table.

    Attributes:
        name: the header.
        kind: "numeric", "boolean" (0/1 numbers) or "categorical".
        values: float64 with NaN for missing (numeric, boolean), or an object
            array of strings with None for missing (categorical).
    """

    name: str
    kind: str
    values: np.ndarray

    @property
    def missing(self):
        """The number of missing values."""
        if self.kind == "categorical":
            return int(sum(value is None for value in self.values))
        return int(np.isnan(self.values).sum())


def _parse_number(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def infer_column(name, cells, allow_boolean=True, fix="leave it out of `features`"):
    """Returns the `Column` of raw string `cells` (stripped), its kind inferred.

    `fix` ends the error messages: what the user should do about an unusable column.

    Raises:
        ZooError: all cells missing, infinite numbers, or free text.
    """
    present = [cell for cell in cells if cell.lower() not in MISSING]
    if not present:
        raise ZooError(f"Column {name!r} has no values (all {len(cells)} missing): {fix}.")
    lowered = {cell.lower() for cell in present}
    if allow_boolean and lowered <= set(BOOLEANS):
        values = [BOOLEANS.get(cell.lower(), np.nan) for cell in cells]
        return Column(name, "boolean", np.array(values, np.float64))
    numbers = [_parse_number(cell) for cell in present]
    if all(number is not None for number in numbers):
        if not np.all(np.isfinite(numbers)):
            raise ZooError(f"Column {name!r} holds infinite numbers: replace them, or {fix}.")
        values = [np.nan if cell.lower() in MISSING else float(cell) for cell in cells]
        return Column(name, "numeric", np.array(values, np.float64))
    distinct = len(set(present))
    if distinct > MAX_FREE_CATEGORIES and distinct > len(present) / 2:
        raise ZooError(
            f"Column {name!r} looks like free text or an identifier ({distinct} distinct values in "
            f"{len(present)} rows), not a category: {fix}."
        )
    values = np.array([None if cell.lower() in MISSING else cell for cell in cells], dtype=object)
    return Column(name, "categorical", values)


def _read_rows(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise ZooError(f"CSV file {str(path)!r} does not exist or is not a file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ZooError(f"{str(path)!r} is not UTF-8 text: re-encode it, e.g. with iconv.") from None
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(text.splitlines(), dialect) if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ZooError(f"{str(path)!r} needs a header row and at least one row of data.")
    header = [name.strip() for name in rows[0]]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ZooError(
                f"{str(path)!r}: data row {number} has {len(row)} cells but the header has {len(header)}: "
                "fix that row (quote cells that contain the delimiter)."
            )
    return header, [[cell.strip() for cell in column] for column in zip(*rows[1:])]


def check_names(names, available, what):
    """Raises a `ZooError` naming the closest column if any of `names` is not in `available`."""
    for name in names:
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ZooError(f"Unknown {what} column {name!r}.{hint} Columns: {', '.join(available)}.")


def read_csv_table(path, target, features=None):
    """Returns `(feature columns, target column)` of a CSV file with a header row.

    Args:
        path: the file; the delimiter (comma, semicolon or tab) is detected.
        target: the header of the column to predict.
        features: the headers of the input columns; None for all but the target.
    """
    if not target:
        raise ZooError(f"A CSV table needs target=<column to predict>: e.g. target={'label'!r}.")
    header, cells = _read_rows(path)
    if len(set(header)) != len(header):
        duplicated = sorted({name for name in header if header.count(name) > 1})
        raise ZooError(f"{str(path)!r} has duplicated column names {duplicated}: rename them.")
    check_names([target], header, "target")
    features = [name for name in header if name != target] if features is None else list(features)
    check_names(features, header, "feature")
    if target in features:
        raise ZooError(f"Column {target!r} is the target: leave it out of `features`.")
    if not features:
        raise ZooError(f"{str(path)!r} has no column besides the target {target!r} to predict it from.")
    columns = dict(zip(header, cells))
    target_column = infer_column(target, columns[target], allow_boolean=False, fix="choose another `target`")
    return [infer_column(name, columns[name]) for name in features], target_column
