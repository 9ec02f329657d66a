"""Writes the README's results tables that come from files in the repository: the manifest and the cards.

    python scripts/readme_tables.py          # rewrites README.md between the table markers
    python scripts/readme_tables.py --check  # exit 1 if README.md differs from what it would write

A generated table sits between `<!-- table:NAME -->` and `<!-- /table -->`; NAME is one of
`TABLES`. The numbers come from `zoo/pretrained/manifest.json` (accuracies, sizes, generator
quality) and the Export section of each entry's card, which is written from its export report
(`report.json`): one source for each number. Tables of benchmark outputs that are not in the
repository (`runs/...`) stay hand-written in the README, each with the command that made it.
"""

import pathlib
import re
import sys

from absl import flags

from zoo.cli import run_main
from zoo.evaluation import wilson_interval
from zoo.pretrained import manifest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
MARKED = re.compile(r"(<!-- table:(\w+) -->\n)(.*?)(<!-- /table -->)", re.S)
VISION = ("cnn_mnist_5k", "convnet_mnist_5k", "lenet5_mnist_5k", "resnet20_mnist_5k")
GENERATORS = ("conditional_dcgan_mnist_5k", "dcgan_mnist_5k")

flags.DEFINE_boolean("check", False, "Only compare: exit 1 if README.md differs from what would be written.")
flags.DEFINE_string("readme", str(README), "The README to rewrite.")
FLAGS = flags.FLAGS


def entries():
    return manifest.read_manifest()


def card_text(name):
    return (manifest.MANIFEST_PATH.parent / "cards" / name / "MODEL_CARD.md").read_text()


def card_export(name):
    """`{file: {size_kb, quality, agreement, latency, spread}}` from the Export table of entry `name`'s card,
    and the card's int8/float32 latency ratio (None if it states none)."""
    text = card_text(name).split("## Export", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            latency = re.match(r"([\d.]+)(?: \(([\d.]+)-([\d.]+)\))?", cells[4])
            rows[cells[0].strip("`")] = dict(
                size_kb=float(cells[1].replace(",", "")),
                quality=None if cells[2] == "-" else float(cells[2]),
                latency=float(latency.group(1)) if latency else None,
                spread=latency.group(2, 3) if latency and latency.group(2) else None,
            )
    ratio = re.search(r"int8/float32 latency: \*\*([\d.]+)\*\*", text)
    return rows, float(ratio.group(1)) if ratio else None


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def accuracy_cell(accuracy, count):
    low, high = wilson_interval(accuracy, count)
    return f"{accuracy:.3f} ({low:.3f}-{high:.3f})"


def vision_table():
    """The shipped vision entries' training results (manifest; training time from the card)."""
    rows = []
    for name in VISION:
        entry = entries()[name]
        seconds = re.search(r"\(([\d.,]+) s of training", card_text(name))
        rows.append(
            [
                f"`{entry['model']}`",
                accuracy_cell(entry["test_accuracy"], entry["test_examples"]),
                f"{entry['validation_accuracy']:.3f}",
                f"{entry['num_parameters']:,}",
                f"{float(seconds.group(1)):.0f} s" if seconds else "-",
            ]
        )
    header = ["model", "test acc. (95% Wilson, n=500)", "validation acc. (n=500)", "parameters", "training time"]
    return table(header, rows)


def latency_cell(row):
    if row is None or row["latency"] is None:
        return "-"
    return f"{row['latency']:.3f}" + (f" ({row['spread'][0]}-{row['spread'][1]})" if row["spread"] else "")


def pretrained_table():
    """Every shipped image classifier: accuracy from the manifest, its files' numbers from its card."""
    rows = []
    for name, entry in entries().items():
        if entry.get("task") != "image_classification":
            continue
        files, ratio = card_export(name)
        keras, float16, float32, int8 = (
            files.get(f"model{suffix}") for suffix in (".keras", "_float16.tflite", "_float32.tflite", "_int8.tflite")
        )
        quality = lambda row: f"{row['quality']:.4f}" if row and row["quality"] is not None else "-"
        rows.append(
            [
                f"`{name}`",
                f"{entry['num_parameters']:,}",
                accuracy_cell(entry["test_accuracy"], entry["test_examples"]),
                quality(float16),
                quality(int8),
                f"{entry['test_examples']:,}",
                f"{entry['size_bytes'] / 1024:,.1f}",
                f"{float16['size_kb']:,.1f}" if float16 else "-",
                f"{int8['size_kb']:,.1f}" if int8 else "-",
                latency_cell(keras),
                latency_cell(float32),
                latency_cell(int8),
                f"{ratio:.2f}" if ratio else "-",
            ]
        )
    header = "entry, params, Keras acc. (95% Wilson), float16 TFLite acc., int8 TFLite acc., test examples, "
    header += "weights KB, float16 KB, int8 KB, Keras ms, float32 TFLite ms, int8 TFLite ms, int8/float32 latency"
    return table(header.split(", "), rows)


def generation_table():
    """The shipped generators' quality (manifest `test_quality`)."""
    rows = []
    for name in GENERATORS:
        test = entries()[name]["test_quality"]
        shares = [100 * count / test["num_images"] for count in test["class_histogram"]]
        match = "-"
        if "class_match" in test:
            match = accuracy_cell(test["class_match"], test["num_images"])
        rows.append(
            [
                f"`{name}`",
                f"{test['frechet_distance']:.2f}",
                f"{test['frechet_distance_at_floor_size']:.2f} / {test['frechet_floor']:.2f} = "
                f"{test['frechet_ratio']:.1f}x",
                f"{test['kid']:.4f} ({test['kid_interval'][0]:.4f} to {test['kid_interval'][1]:.4f})",
                f"{test['kid_floor']:.4f}",
                f"{test['classifier_score']:.2f} ({test['classifier_score_real']:.2f})",
                f"{min(shares):.1f}% to {max(shares):.1f}%",
                match,
            ]
        )
    test = entries()[GENERATORS[0]]["test_quality"]
    images, held_out = f"{test['num_images']:,}", f"{test['num_held_out_images']:,}"
    header = [
        f"entry ({images} images vs {test['num_train_images']:,} training)",
        "Frechet distance",
        f"Frechet on {held_out} / floor ({held_out} held-out real)",
        f"KID (95%, {test['kid_subsets']} subsets of {test['kid_subset_size']:,})",
        "KID floor",
        "classifier score (real)",
        "judge's classes: rarest to most common",
        "class match (95%)",
    ]
    return table(header, rows)


TABLES = dict(vision=vision_table, pretrained=pretrained_table, generation=generation_table)


def rewrite(text):
    """`text` with every marked table written anew; `KeyError` names an unknown marker."""
    return MARKED.sub(lambda match: match.group(1) + TABLES[match.group(2)]() + match.group(4), text)


def main(argv):
    path = pathlib.Path(FLAGS.readme)
    text = path.read_text()
    written = rewrite(text)
    if FLAGS.check:
        if written != text:
            print(f"{path}'s tables differ from the manifest and cards: run python scripts/readme_tables.py")
            sys.exit(1)
        print(f"{path}: {len(MARKED.findall(text))} generated tables agree")
        return
    path.write_text(written)
    print(f"wrote {len(MARKED.findall(text))} tables into {path}")


if __name__ == "__main__":
    run_main(main)
