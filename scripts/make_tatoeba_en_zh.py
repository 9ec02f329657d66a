"""Regenerates zoo/datasets/data/tatoeba_en_zh.tsv.gz from the Tatoeba English-Chinese pairs (manythings.org).

Usage: python scripts/make_tatoeba_en_zh.py PATH_TO_pairs.tsv.gz  (manythings.org's cmn.txt, gzip-compressed)

The input has three tab-separated columns: English, Chinese, and an attribution that always starts with
`CC-BY 2.0 (France) Attribution: tatoeba.org ` followed by the sentence numbers and contributors. The
compact copy keeps all three columns in the same order, with that common prefix dropped from the third
(zoo/datasets/data/README.md says it once for every line).
"""

import gzip
import pathlib
import sys

OUT = pathlib.Path(__file__).parents[1] / "zoo/datasets/data/tatoeba_en_zh.tsv.gz"
PREFIX = "CC-BY 2.0 (France) Attribution: tatoeba.org "


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/make_tatoeba_en_zh.py PATH_TO_pairs.tsv.gz")
    source = sys.argv[1]
    with gzip.open(source, "rt", encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n") if line]
    rows = []
    for line in lines:
        english, chinese, attribution = line.split("\t")
        assert attribution.startswith(PREFIX), attribution
        rows.append(f"{english}\t{chinese}\t{attribution.removeprefix(PREFIX)}\n")
    OUT.write_bytes(gzip.compress("".join(rows).encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(rows):,} pairs)")


if __name__ == "__main__":
    main()
