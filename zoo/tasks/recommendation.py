"""Recommendation tasks: the id input side plus a retrieval head (`two_tower`) or a ranking head (`dcn`).

Both train from `python -m zoo_apps.recommend`; the model says which task a run is. Export asks the
head which part of the model TFLite runs (the `scorer` behind the id lookups, plus top-k for
retrieval) and which inputs check it, so these tasks override `Task.export_data` only.
"""

from zoo.tasks.base import Task
from zoo.tasks.ids_input import IdsInput
from zoo.tasks.ranking import RankingHead
from zoo.tasks.retrieval import RetrievalHead

MODEL_TASKS = ("recommendation_retrieval", "recommendation_ranking")


class Recommendation(Task):
    app = "recommend"
    model_tasks = MODEL_TASKS  # the app trains the models of both
    default_dataset = "movielens"

    def export_data(self, config, model, data_dir=None):
        run = config["run"]
        splits = self.load_data(run["dataset"], run["seed"], data_dir, **run["options"])
        data = self.head.export_data(model, splits)
        data.metadata = dict(task=self.name, **data.metadata, **self.side.vocabulary_metadata(splits, self.head.inputs))
        return data


def recommendation_tasks():
    """The retrieval and ranking tasks (registered in `zoo.tasks`)."""
    side = IdsInput()
    return (
        Recommendation(MODEL_TASKS[0], side=side, head=RetrievalHead(), default_model="two_tower"),
        Recommendation(MODEL_TASKS[1], side=side, head=RankingHead(), default_model="dcn"),
    )
