"""The README's results tables that come from the manifest and the cards are what scripts/readme_tables.py writes."""

import pathlib

import pytest

from scripts import readme_tables
from zoo.pretrained import pretrained_info

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_the_readmes_generated_tables_agree_with_the_manifest_and_cards():
    text = README.read_text()
    assert {name for _, name, _, _ in readme_tables.MARKED.findall(text)} == set(readme_tables.TABLES)
    assert readme_tables.rewrite(text) == text, "run: python scripts/readme_tables.py"


def test_a_marked_table_is_written_from_the_manifest():
    text = "before\n<!-- table:vision -->\n| stale | table |\n<!-- /table -->\nafter\n"
    written = readme_tables.rewrite(text)
    assert written.startswith("before\n<!-- table:vision -->\n| model |") and written.endswith(
        "<!-- /table -->\nafter\n"
    )
    accuracy = pretrained_info("resnet20_mnist_5k")["test_accuracy"]
    assert f"| `resnet20` | {accuracy:.3f} (" in written and "stale" not in written
    with pytest.raises(KeyError):
        readme_tables.rewrite("<!-- table:nonsense -->\n<!-- /table -->")


def test_the_pretrained_table_reads_each_cards_export_report():
    files, _ = readme_tables.card_export("resnet20_mnist_5k")
    table = readme_tables.pretrained_table()
    row = next(line for line in table.splitlines() if line.startswith("| `resnet20_mnist_5k` |"))
    assert readme_tables.latency_cell(files["model_int8.tflite"]) in row.split(" | ")[11]
    assert f"{pretrained_info('resnet20_mnist_5k')['test_accuracy']:.3f}" in row


def test_the_generation_table_has_the_shipped_quality_with_kid_and_class_shares():
    table = readme_tables.generation_table()
    test = pretrained_info("dcgan_mnist_5k")["test_quality"]
    assert f"{test['kid']:.4f}" in table and f"{test['frechet_ratio']:.1f}x" in table
    assert f"{test['num_images']:,} images vs {test['num_train_images']:,} training" in table
