"""What several test files share: running a program in this process, tiny datasets."""

import contextlib
import dataclasses
import io
import json

import numpy as np
import pytest
import tensorflow as tf

WORDS = {
    "pos": ["good", "great", "fun", "superb", "moving"],
    "neg": ["bad", "dull", "awful", "boring", "weak"],
}


@dataclasses.dataclass
class Result:
    code: int  # 0, or the SystemExit status
    stdout: str
    stderr: str
    value: object  # what main returned

    @property
    def error_lines(self):
        return [line for line in self.stderr.splitlines() if line.startswith("error: ")]


def run(main, *args, check=True):
    """Runs a program's `main(argv)` (a zoo_apps app, `export.__main__.cli`, ...) in this process."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code, value = 0, None
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            value = main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    result = Result(code, stdout.getvalue(), stderr.getvalue(), value)
    if check and code:
        raise AssertionError(f"exit {code}: {result.stderr[-3000:]}")
    return result


def slow_unless(cases, fast):
    """`cases` (values, or tuples of arguments) as pytest params, each marked `slow` unless its first value is in
    `fast`: `pytest -m "not slow"` keeps a cheap representative of a parametrized test."""
    params = []
    for case in cases:
        values = case if isinstance(case, tuple) else (case,)
        params.append(pytest.param(*values, marks=() if values[0] in fast else pytest.mark.slow))
    return params


def assert_one_line_error(result, message):
    """Exit status 2 and exactly one `error:` line, containing `message`, and no traceback."""
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and message in result.error_lines[0], result.stderr
    assert "Traceback" not in result.stderr


def write_reviews(root, examples=100, seed=0):
    """Two line files of short "reviews" told apart by their sentiment words; returns `root`."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, words in WORDS.items():
        lines = [f"The film was {rng.choice(words)} , {rng.choice(words)} and long !" for _ in range(examples)]
        (root / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return root


def write_pngs(root, count=12, size=8):
    """Two classes of noisy grey PNGs, `dark` and `light`, `count` each, `size` pixels square."""
    rng = np.random.default_rng(0)
    for value, name in ((10, "dark"), (240, "light")):
        (root / name).mkdir(parents=True)
        for i in range(count):
            image = np.clip(rng.normal(value, 20, (size, size, 1)), 0, 255).astype(np.uint8)
            tf.io.write_file(str(root / name / f"{i}.png"), tf.io.encode_png(image))


def write_wavs(root, count=10, rate=8000, seconds=0.5):
    """Two classes of noisy tones as 16-bit WAV files at `rate` Hz, `low` (300 Hz) and `high` (3 kHz)."""
    from scipy.io import wavfile

    rng = np.random.default_rng(0)
    time = np.arange(int(rate * seconds)) / rate
    for frequency, name in ((300, "low"), (3000, "high")):
        (root / name).mkdir(parents=True)
        for i in range(count):
            tone = 0.5 * np.sin(2 * np.pi * frequency * (1 + 0.05 * rng.standard_normal()) * time)
            samples = np.clip(tone + 0.05 * rng.standard_normal(len(time)), -1, 1)
            wavfile.write(root / name / f"{i}.wav", rate, np.round(samples * 32767).astype(np.int16))
    return root


def write_scene_folder(root, count=40, size=32):
    """`count` mnist scenes as gray PNGs with palette PNG masks (classes.txt: background, 0-9), `size` pixels."""
    from PIL import Image

    from zoo.datasets.scenes import mnist_scenes

    scenes = mnist_scenes(seed=5, counts=(count, 1, 1))["train"]
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "classes.txt").write_text("background\n" + "\n".join(str(digit) for digit in range(10)) + "\n")
    for index, (image, mask) in enumerate(zip(scenes.images, scenes.masks)):
        Image.fromarray(image).resize((size, size), Image.BILINEAR).save(root / "images" / f"{index}.png")
        palette = Image.fromarray(mask).resize((size, size), Image.NEAREST).convert("P")
        palette.save(root / "masks" / f"{index}.png")
    return root


def write_coco_folder(folder, bad_box=None, size=(32, 40), count=12):
    """`count` PNG scenes of `size` (height, width) with one bright square each, and their COCO annotations
    (`annotations.json`, one category `square`; scene 3's box replaced by `bad_box` if given)."""
    images, annotations = [], []
    for index in range(count):
        pixels = np.zeros((*size, 3), np.uint8)
        top = index % (size[0] - 14)
        pixels[4 + top : 14 + top, 6:20] = 255
        (folder / f"scene{index}.png").write_bytes(tf.io.encode_png(pixels).numpy())
        images.append(dict(id=index, file_name=f"scene{index}.png"))
        annotations.append(dict(id=index + 1, image_id=index, category_id=7, bbox=[6, 4 + top, 14, 10]))
    if bad_box:
        annotations[3]["bbox"] = bad_box
    categories = [dict(id=7, name="square")]
    path = folder / "annotations.json"
    path.write_text(json.dumps(dict(images=images, annotations=annotations, categories=categories)))
    return path


def write_yolo_folder(folder, bad_line=None, size=(32, 40), count=12):
    """The scenes of `write_coco_folder` in YOLO's layout: `images/`, `labels/` (`class cx cy w h` ratios) and
    `classes.txt` (one class, `square`); scene 3's line replaced by `bad_line` if given; scene 0 has no labels
    file (an image without objects)."""
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    (folder / "classes.txt").write_text("square\n")
    height, width = size
    for index in range(count):
        pixels = np.zeros((*size, 3), np.uint8)
        top = index % (height - 14)
        pixels[4 + top : 14 + top, 6:20] = 255
        (folder / "images" / f"scene{index}.png").write_bytes(tf.io.encode_png(pixels).numpy())
        line = f"0 {13 / width} {(9 + top) / height} {14 / width} {10 / height}"
        if index:
            (folder / "labels" / f"scene{index}.txt").write_text((bad_line if index == 3 and bad_line else line) + "\n")
    return folder


NUMBERS = dict(one="一", two="二", three="三", four="四", five="五", six="六", seven="七", eight="八", nine="九")
THINGS = dict(cats="猫", dogs="狗", books="书", apples="苹果", friends="朋友")


def write_pairs(path, count=45):
    """`count` (at most 45) English-Chinese pairs "I have two cats." -> "我有二猫。" as `source<TAB>target` lines."""
    pairs = [
        f"I have {number} {thing}.\t我有{NUMBERS[number]}{THINGS[thing]}。" for thing in THINGS for number in NUMBERS
    ]
    path.write_text("\n".join(pairs[:count]) + "\n", encoding="utf-8")
    return path
