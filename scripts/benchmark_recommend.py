"""The recommenders' targets on MovieLens ml-latest-small (time split per user, seed 0), each beside the
references the same run fits on the same split:

- `two_tower` Recall@10 at least 1.5x the popularity baseline's (and beside TruncatedSVD's);
- `dcn` RMSE below the mean rating's and the matrix factorization's (biases + TruncatedSVD);
- its TFLite file's top 10 identical (as a set) to Keras's for at least 99% of users;
- the default command (`python -m zoo_apps.recommend`, with `--export=float32`) under 10 minutes on 2 cores.

Both commands run as fresh processes (start-up and imports included); CPU time is printed beside the
wall time, as it varies less on a shared machine. Needs `pip install -e ".[recommend]"`.

    python scripts/benchmark_recommend.py
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from absl import app, flags
from commands import timed

flags.DEFINE_string("keep", None, "Keep the runs in this folder (default: a temporary one).")
flags.DEFINE_list("tasks", ["retrieval", "ranking"], "Which to measure: retrieval (two_tower), ranking (dcn).")
FLAGS = flags.FLAGS

TARGET_RATIO = 1.5
TARGET_IDENTICAL = 0.99
TARGET_SECONDS = 600


def interval(values, name):
    low, high = values[f"{name}_interval"]
    return f"{values[name]:.4f} (95% {low:.4f}-{high:.4f})"


def retrieval(folder):
    model_dir = folder / "two_tower"
    seconds = timed([sys.executable, "-m", "zoo_apps.recommend", f"--model_dir={model_dir}", "--export=float32"])
    metrics = json.loads((model_dir / "metrics.json").read_text())
    report = json.loads((model_dir / "export/report.json").read_text())
    row = {row["file"]: row for row in report["files"]}["model_float32.tflite"]
    test, references = metrics["test"], metrics["reference"]
    ratio = test["recall@10"] / references["popularity"]["recall@10"]
    print(f"\ntwo_tower on movielens, seed 0, {test['users']} test users (each user's last 10% of ratings):")
    for name, values in (("two_tower", test), *references.items()):
        cells = ", ".join(f"{m} {interval(values, m)}" for m in ("recall@10", "ndcg@10", "hit_rate@10", "mrr"))
        print(f"  {name:<22} {cells}")
    print(
        f"  Recall@10 two_tower / popularity: {ratio:.2f}x (target >= {TARGET_RATIO}x: {_met(ratio >= TARGET_RATIO)})"
    )
    identical = row["top10_identical"]
    print(
        f"  TFLite float32 top-10 identical to Keras for {100 * identical:.2f}% of {row['agreement_examples']} users "
        f"(overlap {100 * row['top10_overlap']:.2f}%; target >= 99%: {_met(identical >= TARGET_IDENTICAL)}); "
        f"operators {', '.join(row['operators'])}"
    )
    wall, cpu = seconds
    print(
        f"  default command (training, evaluation, references, float32 export): {wall:.0f} s wall, {cpu:.0f} s CPU "
        f"on {os.cpu_count()} cores (target < {TARGET_SECONDS} s: {_met(wall < TARGET_SECONDS)})"
    )


def ranking(folder):
    model_dir = folder / "dcn"
    wall, cpu = timed([sys.executable, "-m", "zoo_apps.recommend", "--model=dcn", f"--model_dir={model_dir}"])
    metrics = json.loads((model_dir / "metrics.json").read_text())
    test, references = metrics["test"], metrics["reference"]
    print(f"\ndcn on movielens, seed 0, {test['examples']} test ratings ({wall:.0f} s wall, {cpu:.0f} s CPU):")
    for name, values in (("dcn", test), *references.items()):
        auc = "-" if values["auc"] is None else f"{values['auc']:.4f}"
        print(f"  {name:<22} RMSE {interval(values, 'rmse')}, MAE {values['mae']:.4f}, AUC {auc}")
    best = min(values["rmse"] for values in references.values())
    print(f"  dcn RMSE below both references: {_met(test['rmse'] < best)}")


def _met(passed):
    return "met" if passed else "MISSED"


def main(argv):
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(FLAGS.keep or temporary)
        for name in FLAGS.tasks:
            dict(retrieval=retrieval, ranking=ranking)[name](folder)


if __name__ == "__main__":
    app.run(main)
