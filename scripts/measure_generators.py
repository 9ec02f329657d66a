"""Re-measures the shipped generators' quality without retraining them, into the manifest and their cards.

    python scripts/measure_generators.py                                  # both shipped GAN entries, 5,000 images
    python scripts/measure_generators.py --entries=dcgan_mnist_5k --num_images=500 --output_dir=/tmp/p  # a check

For each entry: the shipped float16 weights (`zoo.create_model(model, pretrained=entry)`) are
measured by `zoo.generative.quality.evaluate_generator` on the entry's dataset split with its
seed (the training images of the run, and its validation and test splits as held-out images),
exactly as the generation app measures a run. The entry's `test_quality` in the manifest is
replaced (marked `measured_on: shipped float16 weights`), and the card's Metrics section and
its limitation about comparable numbers are rewritten from the same numbers.
"""

import json
import pathlib
import re

from absl import flags

import zoo
from zoo.cli import run_main
from zoo.pretrained import manifest
from zoo.tasks import get_task, image_generation

flags.DEFINE_list("entries", ["conditional_dcgan_mnist_5k", "dcgan_mnist_5k"], "Generator entries to measure.")
flags.DEFINE_integer("num_images", image_generation.QUALITY_IMAGES, "Generated images per entry.", lower_bound=10)
flags.DEFINE_string("output_dir", str(manifest.MANIFEST_PATH.parent), "Where manifest.json and cards/ are.")
FLAGS = flags.FLAGS


def measure(name, entry, manifest_path):
    """The quality dict of entry `name`'s shipped weights, measured as the generation app measures a run."""
    model = zoo.load_pretrained(name, manifest_path=manifest_path)
    task = get_task("image_generation")
    splits = task.load_data(entry["dataset"], seed=entry["seed"])
    image_generation.QUALITY_IMAGES = FLAGS.num_images
    metrics, _ = task.evaluate(model, splits)
    return dict(metrics["test"], measured_on="shipped float16 weights")


def rewrite_card(path, test):
    """Replaces the card's Metrics text (up to its first figure) and the comparability limitation."""
    task = get_task("image_generation")
    card = path.read_text()
    start = card.index("## Metrics\n\n") + len("## Metrics\n\n")
    end = card.index("\n![", start)
    card = card[:start] + "\n".join(task.card_metrics(dict(test=test))) + "\n" + card[end:]
    card = re.sub(
        r"\(same judge, [\d,]+ (generated )?images[^)]*\)",
        f"(same judge, {test['num_images']:,} generated images against the training images)",
        card,
    )
    path.write_text(card)


def main(argv):
    output_dir = pathlib.Path(FLAGS.output_dir)
    manifest_path = output_dir / "manifest.json"
    entries = manifest.read_manifest(manifest_path)
    for name in FLAGS.entries:
        entry = entries[name]
        test = measure(name, entry, manifest_path)
        entry["test_quality"] = test
        entry.pop("test_quality_float16_weights", None)  # test_quality is now measured on those weights
        manifest.write_manifest(entries, manifest_path)
        rewrite_card(output_dir / "cards" / name / "MODEL_CARD.md", test)
        print(name, json.dumps({key: value for key, value in test.items() if key != "classifier_sha256"}))


if __name__ == "__main__":
    run_main(main)
