"""Trains an image classifier from the zoo and writes the run to --model_dir.

    python -m zoo_apps.image_classify --model=cnn              # mnist_5k, offline
    python -m zoo_apps.image_classify --model=resnet20 --dataset=folder:photos/
    python -m zoo_apps.image_classify --model=cnn --dataset=folder:my_digits/ --image_size=28,28 \\
        --pretrained=default --export=tflite_int8    # fine-tune cnn_mnist_5k, then export
"""

from absl import flags

import zoo
from zoo.datasets import load_image_dataset
from zoo_apps import distribute, experiment
from zoo_apps.flags import define_training_flags, export_choices, pretrained, resolve_recipe, run

define_training_flags(
    default_model="cnn",
    default_dataset="mnist_5k",
    dataset_help="mnist_5k (embedded), digits, folder:DIR (one sub-folder per class), "
    "or a tfds image dataset prepared in --data_dir (mnist, fashion_mnist, cifar10, ...).",
)
flags.DEFINE_list("image_size", None, "HEIGHT,WIDTH to resize folder or tfds images to.")
FLAGS = flags.FLAGS


def main(argv):
    if FLAGS.list_models:
        print("\n".join(zoo.list_models(task="image_classification")))
        return
    recipe = resolve_recipe(FLAGS.model)
    # Collective ops must be configured before TensorFlow runs anything.
    strategy = distribute.make_strategy(FLAGS.strategy, FLAGS.tpu)
    image_size = tuple(int(v) for v in FLAGS.image_size) if FLAGS.image_size else None
    splits = load_image_dataset(
        FLAGS.dataset, seed=FLAGS.seed, data_dir=FLAGS.data_dir, image_size=image_size
    )
    run_settings = dict(
        model=FLAGS.model, dataset=FLAGS.dataset, seed=FLAGS.seed, image_size=image_size,
        pretrained=pretrained(),
        mixed_precision=distribute.set_mixed_precision(FLAGS.mixed_precision), recipe=recipe,
    )
    experiment.make_deterministic(FLAGS.seed)
    model_dir = FLAGS.model_dir or experiment.default_model_dir(FLAGS.model, FLAGS.dataset)
    with strategy.scope():
        model = zoo.create_model(
            FLAGS.model, num_classes=splits.num_classes, input_shape=splits.input_shape,
            pretrained=run_settings["pretrained"],
        )
        experiment.train_and_evaluate(model, splits, run_settings, model_dir)
    if export_choices():
        experiment.export_and_describe(model_dir, *export_choices(), data_dir=FLAGS.data_dir)


if __name__ == "__main__":
    run(main)
