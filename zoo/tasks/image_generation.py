"""Image generation: a GAN learns a dataset's images; its generator turns noise (and a class) into 0-255 pixels.

The app core trains `zoo.generative.dcgan.GAN` with its own two-optimizer
`compile`; a grid of samples from fixed noise is drawn every epoch. Quality is
measured by a zoo classifier of the same data (`zoo.generative.quality`), and
each exported generator is checked against Keras on images from the same noise.
"""

import functools

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from zoo.datasets import batched, load_image_dataset
from zoo.errors import ZooError
from zoo.files import atomic_path
from zoo.generative import dcgan, quality
from zoo.pretrained import pretrained_info
from zoo.run_folder import LOGS
from zoo.tasks.base import Dataset, ExportData, Task
from zoo.tasks.classification import split_arrays

JUDGES = {"mnist_5k": "convnet_mnist_5k", "digits": "cnn_digits"}  # the classifier that measures each dataset's images
SAMPLES = "samples"  # the run folder's grid of every epoch: samples/epoch_003.png; TensorBoard: logs/samples
FIXED_RECIPE = dict(optimizer="adam", lr_schedule="constant", weight_decay=0.0, label_smoothing=0.0, augment=False)
FIDELITY_IMAGES = 500  # images from fixed noise on which each exported file is compared with Keras
FIDELITY_SEED, CALIBRATION_SEED = 1, 2  # of that noise, and of the int8 calibration noise (the grids use seed 0)
CALIBRATION_EXAMPLES = 300
QUALITY_IMAGES = quality.NUM_IMAGES  # generated images measured against the training images (tests use fewer)
MIN_AGREEMENT = 0.95  # the gate: the judge gives a file's image the class it gives Keras's from the same noise
MAX_MEAN_PIXEL_DIFF = 5.0  # the gate: mean |file - Keras| over every pixel (0-255)
MAX_CLASS_MATCH_DROP = 0.03  # the gate: conditional models, Keras's class match minus the file's
PROGRESS_GRIDS = 6  # grids in progress.png, from the first epoch to the last
GRID_WIDTH = 280  # pixels at least: small images are enlarged in the PNGs
LABEL_HEIGHT = 16  # pixels above each grid of progress.png, and between them


def write_grid(grid, path):
    """Writes a uint8 `(height, width, channels)` grid as a PNG, enlarged to `GRID_WIDTH` pixels or more."""
    scale = max(1, GRID_WIDTH // grid.shape[1])
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(tmp, format="png")


def plot_progress(paths, path):
    """Writes up to `PROGRESS_GRIDS` of the epochs' grid files side by side, first to last epoch, each
    under its epoch number."""
    picked = sorted({int(i) for i in np.linspace(0, len(paths) - 1, min(PROGRESS_GRIDS, len(paths))).round()})
    grids = [Image.open(paths[index]) for index in picked]
    width, height = grids[0].size
    step = width + LABEL_HEIGHT
    strip = Image.new(grids[0].mode, (len(grids) * step - LABEL_HEIGHT, height + LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(strip)
    for place, (index, grid) in enumerate(zip(picked, grids)):
        strip.paste(grid, (place * step, LABEL_HEIGHT))
        draw.text((place * step + 2, 3), f"epoch {int(paths[index].stem.split('_')[-1])}", fill="black")
    with atomic_path(path) as tmp:
        strip.save(tmp, format="png")


class SampleGrids(keras.callbacks.Callback):
    """After every epoch: a grid of samples from fixed noise (fixed classes per row for a conditional
    model) to `samples/epoch_<n>.png` and to TensorBoard (`logs/samples`)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.folder.file(LOGS) / SAMPLES))

    def on_epoch_end(self, epoch, logs=None):
        grid = dcgan.sample_grid(self.model)
        write_grid(grid, self.folder.file(SAMPLES) / f"epoch_{epoch + 1:03d}.png")
        with self.writer.as_default():
            tf.summary.image("samples", grid[None], step=epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()


@functools.cache
def judge_for(image_shape):
    """The `quality.Judge` (one of `JUDGES`) that takes images of `image_shape`."""
    for name in JUDGES.values():
        if tuple(pretrained_info(name)["input"]["shape"]) == tuple(image_shape):
            return quality.load_judge(name)
    raise ZooError(f"No judge classifier ({', '.join(JUDGES.values())}) takes images of shape {tuple(image_shape)}.")


class ImageGeneration(Task):
    name = "image_generation"
    app = "generate"
    default_model = "conditional_dcgan"
    default_dataset = "mnist_5k"
    catalog = (
        Dataset(
            "mnist_5k",
            "5,000 real MNIST training digits (500 per class, 28x28 grayscale, white on black) embedded in "
            "zoo, split 80/10/10 with the run's seed; judged by `convnet_mnist_5k`",
            "It draws 28x28 white-on-black MNIST-like digits only.",
        ),
        Dataset(
            "digits",
            "scikit-learn's 1,797 8x8 handwritten digits, rescaled to 0-255 and split 80/10/10 with the run's "
            "seed; judged by `cnn_digits`",
            "It draws 8x8 digits of a small group of writers only.",
        ),
    )
    input_description = (
        "`noise`: float32 (batch, latent_dim), standard normal (`model.noise(num_images, seed)`); conditional "
        "models also take `label`: int32 (batch,), the class of each image"
    )
    output_description = "`pixels`: float32 images 0-255, (batch, height, width, channels)"
    output_name = "pixels"
    report_columns = ("class_match", "top1_agreement", "mean_abs_diff", "max_abs_diff")
    history_metrics = ("d_loss", "g_loss")
    agreement_column = "top1_agreement"
    recipe_keys = ("epochs", "batch_size", "learning_rate")  # the rest is fixed (FIXED_RECIPE)

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        if dataset not in JUDGES:
            raise ZooError(
                f"Image generation trains on {', '.join(JUDGES)}: the images it draws are measured by a zoo "
                f"classifier of the same data. Received: --dataset={dataset}"
            )
        return load_image_dataset(dataset, seed=seed, data_dir=data_dir)

    def check(self, model_name, options, recipe):
        super().check(model_name, options, recipe)
        changed = [f"--{key}={recipe[key]}" for key, value in FIXED_RECIPE.items() if recipe[key] != value]
        if changed:
            raise ZooError(
                "GANs train with two Adam optimizers (beta_1 0.5) at a constant --learning_rate, without weight "
                f"decay, label smoothing or augmentation. Received: {' '.join(changed)}"
            )

    def compile(self, model, recipe, new_optimizer):
        model.compile(learning_rate=recipe["learning_rate"])

    def training_pipelines(self, splits, recipe, seed):
        return batched(splits.train, recipe["batch_size"], shuffle_seed=seed), batched(
            splits.validation, recipe["batch_size"]
        )

    def callbacks(self, model, splits, folder):
        return [SampleGrids(folder)]

    def evaluate(self, model, splits):
        train = split_arrays(splits.train)[0]
        held_out = np.concatenate([split_arrays(split)[0] for split in (splits.validation, splits.test)])
        test = quality.evaluate_generator(model, train, held_out, JUDGES[splits.name], num_images=QUALITY_IMAGES)
        metrics = dict(test=test)
        return metrics, dict(grid=dcgan.sample_grid(model), conditional=bool(model.num_classes))

    def write_plots(self, folder, outputs):
        write_grid(outputs["grid"], folder.file("samples.png"))
        plot_progress(sorted(folder.file(SAMPLES).glob("epoch_*.png")), folder.file("progress.png"))
        rows = " (row r: the class r asked for; column: one noise vector)" if outputs["conditional"] else ""
        return [
            ("samples.png", f"Samples from fixed noise after training{rows}"),
            ("progress.png", "The same noise's samples during training"),
        ]

    def headline(self, metrics):
        test = metrics["test"]
        match = f", class match {test['class_match']:.3f}" if "class_match" in test else ""
        return (
            f"Frechet distance {test['frechet_distance']:.2f} ({test['frechet_ratio']:.2f}x the real-vs-real floor), "
            f"KID {test['kid']:.4f}"
            f"{match}, classifier score {test['classifier_score']:.2f}"
        )

    def card_metrics(self, metrics):
        return quality.card_lines(metrics["test"])

    def card_limitations(self, config, metrics):
        entry = self.dataset_entry(config["run"]["dataset"])
        lines = [
            f"- {entry.limitation} A GAN can also miss styles or whole classes (mode collapse): look at the "
            "samples; the numbers come from a classifier, not from people.",
            "- The Frechet distance uses the judge's features, not Inception's: compare it only with numbers "
            f"measured the same way (same judge, {metrics['test']['num_images']:,} generated images against the "
            "training images), never with published FIDs.",
        ]
        if "class_match" not in metrics["test"]:
            lines.append("- Unconditional: the class of an image is whatever its noise gives; conditional_dcgan asks.")
        return lines

    def card_usage(self, config, model_variable="model"):
        labels = ", labels=range(10)" if config.get("class_names") else ""
        return [f"images = {model_variable}.generate({model_variable}.noise(10, seed=0){labels})  # 0-255 pixels"]

    def intended_use(self, config):
        return (
            f"Drawing images like those of `{config['run']['dataset']}` from a seed (of the class asked for, "
            "for conditional models): `model.generate(model.noise(10, seed=0), labels=range(10))`; a reference "
            "GAN to compare training recipes with, synthetic examples for tests and demos, and a generator to "
            "try on phones."
        )

    def export_data(self, config, model, data_dir=None):
        noise = model.noise(FIDELITY_IMAGES, FIDELITY_SEED)
        calibration = list(model.noise(CALIBRATION_EXAMPLES, CALIBRATION_SEED))
        inputs, labels = noise, np.full(FIDELITY_IMAGES, -1)  # -1: no class asked for
        if model.num_classes:
            labels = np.arange(FIDELITY_IMAGES, dtype="int32") % model.num_classes
            inputs = [noise, labels]
            calibration = list(zip(calibration, np.arange(CALIBRATION_EXAMPLES, dtype="int32") % model.num_classes))
        generator = dict(
            latent_dim=model.latent_dim,
            num_classes=model.num_classes,
            noise="float32 standard normal",
            class_names=config["class_names"] if model.num_classes else [],
            image_shape=config["input_shape"],
        )
        metadata = dict(
            task=self.name,
            generator=generator,
            output_value_range=[0, 255],
            input_description="noise (1, latent_dim) float32 standard normal"
            + ("; label (1,) int32 class id" if model.num_classes else ""),
        )
        return ExportData(model.generator, inputs, labels, calibration, metadata)

    def serving_model(self, model):
        return model.generator

    def compare(self, outputs, reference, labels):
        judge = judge_for(outputs.shape[1:])
        logits = judge.features_and_logits(outputs)[1]
        classes = logits.argmax(1)
        keras_classes = judge.features_and_logits(reference)[1].argmax(1)
        difference = np.abs(np.asarray(outputs, np.float64) - reference)
        row = dict(
            top1_agreement=float(np.mean(classes == keras_classes)),
            agreement_examples=int(len(outputs)),
            mean_abs_diff=float(difference.mean()),
            max_abs_diff=float(difference.max()),
        )
        if (labels >= 0).all():
            row["class_match"] = quality.class_match(logits, labels)
        return row

    def gate(self, row, keras_row):
        reasons = []
        if row["top1_agreement"] < MIN_AGREEMENT:
            reasons.append(
                f"the judge classifies {100 * row['top1_agreement']:.1f}% of {row['agreement_examples']:,} images "
                f"as it classifies Keras's from the same noise (gate: {100 * MIN_AGREEMENT:.0f}%)"
            )
        if row["mean_abs_diff"] > MAX_MEAN_PIXEL_DIFF:
            reasons.append(
                f"its pixels differ from Keras's by {row['mean_abs_diff']:.2f} on average "
                f"(gate: {MAX_MEAN_PIXEL_DIFF:g} of 255)"
            )
        if "class_match" in row and keras_row["class_match"] - row["class_match"] > MAX_CLASS_MATCH_DROP:
            reasons.append(
                f"class match {row['class_match']:.3f} against Keras's {keras_row['class_match']:.3f} "
                f"(gate: a drop of at most {MAX_CLASS_MATCH_DROP})"
            )
        return reasons

    def predictor_inputs(self, predictor, inputs):
        """`{"noise": (batch, latent_dim) float32[, "label": (batch,) int32]}` from `noise` or `[noise, labels]`."""
        latent_dim, num_classes = (
            predictor.metadata["generator"]["latent_dim"],
            predictor.metadata["generator"]["num_classes"],
        )
        parts = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if len(parts) != (2 if num_classes else 1):
            wanted = "[noise, labels]" if num_classes else "noise"
            raise ZooError(f"{predictor.path.name} takes {wanted}. Received: {len(parts)} input(s)")
        noise = np.asarray(parts[0], np.float32)
        if noise.ndim != 2 or noise.shape[1] != latent_dim or not np.isfinite(noise).all():
            raise ZooError(
                f"{predictor.path.name} takes finite noise of shape (batch, {latent_dim}). Received: {noise.shape}"
            )
        if not num_classes:
            return dict(noise=noise)
        labels = np.asarray(parts[1], np.int32)
        if labels.shape != noise.shape[:1]:
            raise ZooError(f"{predictor.path.name} takes one label per noise vector. Received: shape {labels.shape}")
        return dict(noise=noise, label=labels)

    def decode(self, predictor, outputs, top_k=None):
        """Images, float32 pixels 0-255."""
        return np.clip(outputs, 0, 255)
