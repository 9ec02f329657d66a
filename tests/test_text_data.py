"""Text datasets: line files, folders of text files, tfds by name, and their errors."""

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo
from zoo.datasets import load_text_dataset


def as_lists(dataset):
    texts, labels = [], []
    for text, label in dataset.as_numpy_iterator():
        texts.append(text.decode("utf-8"))
        labels.append(int(label))
    return texts, labels


def all_examples(splits):
    return sorted(pair for split in (splits.train, splits.validation, splits.test) for pair in zip(*as_lists(split)))


@pytest.fixture
def line_files(tmp_path):
    (tmp_path / "spam").write_text("".join(f"buy now {i}\n" for i in range(30)) + "\n  \n")
    # \x85 and \u2028 are line breaks to str.splitlines(), not to "one example per line".
    (tmp_path / "ham").write_text("".join(f"see you at {i}\x85 or \u2028later\n" for i in range(20)), encoding="utf-8")
    (tmp_path / "README.md").write_text("not a class\n")
    (tmp_path / ".hidden").write_text("not a class either\n")
    return tmp_path


def test_line_files_one_class_per_file_one_example_per_line(line_files):
    splits = load_text_dataset(f"lines:{line_files}", seed=3)
    assert splits.class_names == ["ham", "spam"]
    assert splits.task == "text_classification" and splits.input_shape == ()
    assert not splits.augment_flip
    assert [len(as_lists(s)[0]) for s in (splits.train, splits.validation, splits.test)] == [40, 5, 5]
    expected = sorted(
        [(f"see you at {i}\x85 or \u2028later", 0) for i in range(20)] + [(f"buy now {i}", 1) for i in range(30)]
    )
    assert all_examples(splits) == expected
    text, label = next(iter(splits.train))
    assert text.dtype == tf.string and label.dtype == tf.int64


def test_split_is_deterministic_per_seed(line_files):
    first = as_lists(load_text_dataset(f"lines:{line_files}", seed=1).train)
    again = as_lists(load_text_dataset(f"lines:{line_files}", seed=1).train)
    other = as_lists(load_text_dataset(f"lines:{line_files}", seed=2).train)
    assert first == again and first != other


def test_folder_of_text_files(tmp_path):
    for name, count in (("neg", 6), ("pos", 4)):
        (tmp_path / name).mkdir()
        for i in range(count):
            (tmp_path / name / f"{i}.txt").write_text(f"{name} review {i}\nsecond line")
    (tmp_path / "pos" / "notes.md").write_text("ignored: not a .txt file")
    splits = load_text_dataset(f"folder:{tmp_path}")
    assert splits.class_names == ["neg", "pos"]
    assert all_examples(splits) == sorted(
        [(f"neg review {i}\nsecond line", 0) for i in range(6)]
        + [(f"pos review {i}\nsecond line", 1) for i in range(4)]
    )


def test_tfds_text_datasets_load_by_name():
    with tfds.testing.mock_data(num_examples=10):
        splits = load_text_dataset("imdb_reviews")
        texts, labels = as_lists(splits.train)
        sst2 = load_text_dataset("glue/sst2")  # no supervised keys: found by feature type
        sst2_texts, _ = as_lists(sst2.test)
    assert splits.class_names == ["neg", "pos"] and splits.task == "text_classification"
    assert len(texts) == 10 and all(isinstance(t, str) for t in texts)
    assert set(labels) <= {0, 1}
    assert sst2.class_names == ["negative", "positive"] and len(sst2_texts) == 10


def test_tfds_offline_error_says_how_to_provide_the_data(tmp_path):
    with pytest.raises(zoo.ZooError, match="not prepared in .*tfds build imdb_reviews --data_dir"):
        load_text_dataset("imdb_reviews", data_dir=str(tmp_path))
    with pytest.raises(zoo.ZooError, match="Unknown dataset 'no_such_set'.*lines:DIR"):
        load_text_dataset("no_such_set")
    with pytest.raises(zoo.ZooError, match="not a text-classification dataset"):
        load_text_dataset("mnist")


@pytest.mark.parametrize(
    "files, message",
    [
        ({"pos": "good\n", "neg": ""}, "holds no text"),
        ({"pos": "good\n", "neg": "\n \n"}, "holds no text"),
        ({"pos": "good\nfine\n"}, "needs at least two files"),
        ({"pos": "good\n", "neg": b"caf\xe9\n"}, "is not UTF-8 text: re-encode it"),
    ],
)
def test_bad_line_files_are_refused(files, message, tmp_path):
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(zoo.ZooError, match=message):
        load_text_dataset(f"lines:{tmp_path}")


def test_bad_folders_are_refused(tmp_path):
    for prefix in ("lines", "folder"):
        with pytest.raises(zoo.ZooError, match="does not exist"):
            load_text_dataset(f"{prefix}:{tmp_path}/missing")
    (tmp_path / "pos").mkdir()
    (tmp_path / "pos" / "a.txt").write_text("good")
    with pytest.raises(zoo.ZooError, match="at least two sub-folders"):
        load_text_dataset(f"folder:{tmp_path}")
    (tmp_path / "neg").mkdir()
    (tmp_path / "neg" / "a.md").write_text("bad")
    with pytest.raises(zoo.ZooError, match="neg' holds no text files"):
        load_text_dataset(f"folder:{tmp_path}")
