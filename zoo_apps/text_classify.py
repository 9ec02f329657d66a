"""Trains a text classifier from the zoo and writes the run to --model_dir.

    python -m zoo_apps.text_classify --model=textcnn --dataset=lines:path/to/mr  # rt-polarity.pos/.neg
    python -m zoo_apps.text_classify --model=bert --preset=PRESET_DIR --dataset=folder:reviews/ \\
        --learning_rate=5e-5 --epochs=3

The vocabulary is built from the training split and saved inside model.keras,
which takes raw strings; with --pretrained=RUN_DIR the run's vocabulary is kept.
"""


from absl import flags

import zoo
from zoo.datasets import load_text_dataset
from zoo.text import vectorization
from zoo_apps import distribute, experiment
from zoo_apps.flags import define_training_flags, export_choices, pretrained, resolve_recipe, run

TASK = "text_classification"

define_training_flags(
    default_model="textcnn",
    default_dataset=None,
    dataset_help="lines:DIR (one file per class, one example per line), folder:DIR (one "
    "sub-folder per class, one .txt file per example), or a tfds text dataset prepared in "
    "--data_dir (imdb_reviews, glue/sst2, ...).",
)
flags.DEFINE_integer(
    "max_tokens", None,
    f"Vocabulary size, padding and out-of-vocabulary ids included (default {vectorization.MAX_TOKENS}).",
    lower_bound=3,
)
flags.DEFINE_integer(
    "sequence_length", None,
    f"Tokens per text: longer texts are cut, shorter ones padded (default {vectorization.SEQUENCE_LENGTH}).",
    lower_bound=1,
)
flags.DEFINE_string(
    "preset", None,
    "bert only: a size (bert_tiny, bert_mini, bert_small, bert_medium, bert_base) or a local "
    "keras-hub BERT preset directory to fine-tune.",
)
FLAGS = flags.FLAGS


def model_options():
    """The builder arguments set by --max_tokens, --sequence_length and --preset."""
    options = {
        name: FLAGS[name].value
        for name in ("max_tokens", "sequence_length", "preset")
        if FLAGS[name].value is not None
    }
    if "preset" in options and FLAGS.model != "bert":
        raise zoo.ZooError(f"--preset is for --model=bert only. Received: --model={FLAGS.model}")
    return options


def main(argv):
    if FLAGS.list_models:
        print("\n".join(zoo.list_models(task=TASK)))
        return
    if zoo.model_info(FLAGS.model)["task"] != TASK:
        raise zoo.ZooError(
            f"{FLAGS.model!r} is not a text model: use one of {', '.join(zoo.list_models(task=TASK))}."
        )
    if FLAGS.dataset is None:
        raise zoo.ZooError(
            "Pass --dataset: lines:DIR, folder:DIR or a tfds text dataset (e.g. imdb_reviews)."
        )
    recipe = resolve_recipe(FLAGS.model)
    if recipe["augment"]:
        raise zoo.ZooError("--augment is for images: text models have no augmentation.")
    options = model_options()
    # Collective ops must be configured before TensorFlow runs anything.
    strategy = distribute.make_strategy(FLAGS.strategy, FLAGS.tpu)
    splits = load_text_dataset(FLAGS.dataset, seed=FLAGS.seed, data_dir=FLAGS.data_dir)
    run_settings = dict(
        model=FLAGS.model, dataset=FLAGS.dataset, seed=FLAGS.seed, model_options=options,
        pretrained=pretrained(),
        mixed_precision=distribute.set_mixed_precision(FLAGS.mixed_precision), recipe=recipe,
    )
    experiment.make_deterministic(FLAGS.seed)
    model_dir = FLAGS.model_dir or experiment.default_model_dir(FLAGS.model, FLAGS.dataset)
    builder_options = dict(options)
    if not run_settings["pretrained"]:  # a pretrained run keeps its own vocabulary
        builder_options["vocabulary"] = vectorization.build_vocabulary(
            splits.train.map(lambda text, label: text),
            options.get("max_tokens", vectorization.MAX_TOKENS),
        )
    with strategy.scope():
        model = zoo.create_model(
            FLAGS.model, num_classes=splits.num_classes, pretrained=run_settings["pretrained"],
            **builder_options,
        )
        experiment.train_and_evaluate(model, splits, run_settings, model_dir)
    if export_choices():
        experiment.export_and_describe(model_dir, *export_choices(), data_dir=FLAGS.data_dir)


if __name__ == "__main__":
    run(main)
