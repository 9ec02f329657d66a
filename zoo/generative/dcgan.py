"""DCGAN and the conditional DCGAN: a generator of raw 0-255 pixels and the model that trains it.

`GAN` holds both networks and trains them with its own `train_step` (the keras-io
"DCGAN overriding train_step" pattern), so the apps drive it with a plain
`compile()` and `fit()` on `(pixels, label)` batches. Calling it generates
images; `model.generator` is what is exported to TFLite.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.vision.stem import pixel_input

_DIGITS = (28, 28, 1)
LATENT_DIM = 100
LABEL_EMBEDDING_DIM = 50
MAX_UPSAMPLINGS = 3
# Half the width of the usual MNIST DCGAN (a 7x7x64 start for 28x28 digits, not 7x7x128): on
# 2 CPU cores an epoch takes a third of the time, and a given class match and Frechet distance
# come sooner. Adam 2e-4 with beta_1 0.5 as in the paper; no schedule, decay or augmentation.
# 80 epochs of mnist_5k's 4,000 digits: about 420 CPU-seconds (conditional).
FILTERS = 32
_GAN_RECIPE = {
    "epochs": 80,
    "batch_size": 64,
    "optimizer": "adam",
    "learning_rate": 2e-4,
    "lr_schedule": "constant",
    "weight_decay": 0.0,
    "label_smoothing": 0.0,
    "augment": False,
}


@keras.saving.register_keras_serializable(package="zoo")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other (Goodfellow et al. 2014).

    With `num_classes`, a conditional GAN (Mirza and Osindero 2014): the generator
    takes `[noise, label]`, the discriminator `[pixels, label]` and returns its
    logit and class logits; both networks also learn the class (AC-GAN, Odena et
    al. 2017: the discriminator on real images, the generator on its own).

    Both networks take one step per batch from the same forward pass, as in the
    TensorFlow DCGAN tutorial. Calling the model generates pixels:
    `noise (batch, latent_dim)`, or `[noise, label int32 (batch,)]`. The training
    noise is drawn from `seed`; None (the builders' default) takes it from the
    global seed (`keras.utils.set_random_seed`, which the apps' `--seed` sets).
    """

    def __init__(self, generator, discriminator, latent_dim, num_classes=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.trackers = [keras.metrics.Mean(name="d_loss"), keras.metrics.Mean(name="g_loss")]
        if num_classes:
            self.trackers += [
                keras.metrics.SparseCategoricalAccuracy(name="aux_accuracy"),
                keras.metrics.SparseCategoricalAccuracy(name="fake_aux_accuracy"),
            ]
        self.built = True  # both networks are built functional models

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        networks = {key: keras.saving.deserialize_keras_object(config[key]) for key in ("generator", "discriminator")}
        return cls(**dict(config, **networks))

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, learning_rate=2e-4, **kwargs):
        """Sets the two optimizers (default: Adam with `learning_rate` and beta_1 0.5).

        Args:
            generator_optimizer, discriminator_optimizer: two distinct `keras.optimizers` instances.
            learning_rate: of the default Adam optimizers (a float or a schedule).
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`, `jit_compile`).
        """
        super().compile(optimizer=None, **kwargs)
        self.generator_optimizer = generator_optimizer or keras.optimizers.Adam(
            learning_rate, beta_1=0.5, name="generator_adam"
        )
        self.discriminator_optimizer = discriminator_optimizer or keras.optimizers.Adam(
            learning_rate, beta_1=0.5, name="discriminator_adam"
        )
        if self.generator_optimizer is self.discriminator_optimizer:
            raise ZooError("The generator and the discriminator need two distinct optimizers.")
        # Built now so that `BackupAndRestore` and `load_model` restore their state.
        for optimizer, network in (
            (self.generator_optimizer, self.generator),
            (self.discriminator_optimizer, self.discriminator),
        ):
            if not optimizer.built:
                optimizer.build(network.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "discriminator_optimizer": keras.saving.serialize_keras_object(self.discriminator_optimizer),
        }

    def compile_from_config(self, config):
        self.compile(**{key: keras.optimizers.deserialize(value) for key, value in config.items()})

    @property
    def metrics(self):
        return self.trackers

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _generator_inputs(self, noise, labels):
        return [noise, labels] if self.num_classes else noise

    def _judge(self, images, labels, training):
        """The discriminator's logit and, for a conditional model, its class logits."""
        if not self.num_classes:
            return self.discriminator(images, training=training), None
        logit, class_logits = self.discriminator([images, labels], training=training)
        return logit, class_logits

    def _adversarial_losses(self, real, labels, training):
        """The discriminator's and the generator's losses on one batch (and the class logits)."""
        batch = keras.ops.shape(real)[0]
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        asked = None
        if self.num_classes:
            asked = keras.random.randint((batch,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")
            labels = keras.ops.cast(labels, "int32")
        fake = self.generator(self._generator_inputs(noise, asked), training=training)
        real_logit, real_class = self._judge(real, labels, training)
        fake_logit, fake_class = self._judge(fake, asked, training)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        ones, zeros = keras.ops.ones_like(fake_logit), keras.ops.zeros_like(fake_logit)
        d_loss = bce(ones, real_logit) + bce(zeros, fake_logit)
        g_loss = bce(ones, fake_logit)
        if not self.num_classes:
            return {"d_loss": d_loss, "g_loss": g_loss}
        cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return {
            "d_loss": d_loss + cross_entropy(labels, real_class),
            "g_loss": g_loss + cross_entropy(asked, fake_class),
            "real": (labels, real_class),
            "fake": (asked, fake_class),
        }

    def _update_metrics(self, losses):
        d_loss, g_loss, *accuracies = self.trackers
        d_loss.update_state(losses["d_loss"])
        g_loss.update_state(losses["g_loss"])
        for tracker, key in zip(accuracies, ("real", "fake")):
            tracker.update_state(*losses[key])
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def train_step(self, data):
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            losses = self._adversarial_losses(real, labels, training=True)
        for loss, tape, network, optimizer in (
            ("d_loss", d_tape, self.discriminator, self.discriminator_optimizer),
            ("g_loss", g_tape, self.generator, self.generator_optimizer),
        ):
            gradients = tape.gradient(losses[loss], network.trainable_variables)
            optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return self._update_metrics(losses)

    def test_step(self, data):
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_metrics(self._adversarial_losses(real, labels, training=False))

    def noise(self, num_images, seed=0):
        """Returns `num_images` latent vectors drawn from a standard normal with numpy `seed`."""
        return np.random.default_rng(seed).standard_normal((num_images, self.latent_dim)).astype("float32")

    def generate(self, noise, labels=None, batch_size=250):
        """Returns float32 0-255 pixels for `noise` (and int `labels`, one per image, if conditional)."""
        labels = None if labels is None else np.asarray(labels, "int32")
        return self.predict(self._generator_inputs(noise, labels), batch_size=batch_size, verbose=0)


def sample_grid(model, columns=10, rows=10, seed=0):
    """Returns a uint8 grid `(rows * height, columns * width, channels)` of samples.

    The noise is fixed by `seed`, so grids from successive epochs compare. For a
    conditional model row `r` asks for class `r % num_classes` and each column
    keeps one noise vector (one style across the classes).
    """
    if model.num_classes:
        noise = np.tile(model.noise(columns, seed), (rows, 1))
        labels = np.repeat(np.arange(rows) % model.num_classes, columns)
    else:
        noise, labels = model.noise(rows * columns, seed), None
    images = model.generate(noise, labels)
    height, width, channels = images.shape[1:]
    grid = images.reshape(rows, columns, height, width, channels).transpose(0, 2, 1, 3, 4)
    return np.clip(np.round(grid), 0, 255).astype(np.uint8).reshape(rows * height, columns * width, channels)


def _upsamplings(input_shape):
    """How many stride-2 steps (at most `MAX_UPSAMPLINGS`) lead from a >= 4x4 start to the image."""
    steps = 0
    while len(input_shape) == 3 and steps < MAX_UPSAMPLINGS:
        factor = 2 ** (steps + 1)
        if input_shape[0] % factor or input_shape[1] % factor or min(input_shape[:2]) // factor < 4:
            break
        steps += 1
    if not steps or input_shape[-1] not in (1, 3):
        raise ZooError(
            "GANs generate (height, width, channels) images with 1 or 3 channels, height and width "
            f"even and at least 8 pixels (e.g. 28x28x1, 32x32x3). Received: input_shape={tuple(input_shape)}"
        )
    return steps


def build_generator(input_shape, latent_dim, num_classes=0, filters=FILTERS):
    """The DCGAN generator: Dense -> reshape -> Conv2DTranspose stack with batch norm -> tanh -> 0-255.

    Radford et al. 2016. With `num_classes`, a label embedding is concatenated to
    the noise (Mirza and Osindero 2014).
    """
    steps = _upsamplings(input_shape)
    noise = keras.Input((latent_dim,), name="noise")
    inputs, x = noise, noise
    if num_classes:
        label = keras.Input((), dtype="int32", name="label")
        embedded = keras.layers.Embedding(num_classes, LABEL_EMBEDDING_DIM, name="label_embedding")(label)
        inputs, x = [noise, label], keras.layers.Concatenate(name="condition")([noise, embedded])
    height, width = (size // 2**steps for size in input_shape[:2])
    channels = filters * 2 ** (steps - 1)
    x = keras.layers.Dense(height * width * channels, use_bias=False, name="project")(x)
    x = keras.layers.BatchNormalization(name="project_bn")(x)
    x = keras.layers.ReLU(name="project_relu")(x)
    x = keras.layers.Reshape((height, width, channels), name="reshape")(x)
    for step in range(1, steps):
        channels //= 2
        x = keras.layers.Conv2DTranspose(
            channels, 4, strides=2, padding="same", use_bias=False, name=f"upsample{step}"
        )(x)
        x = keras.layers.BatchNormalization(name=f"upsample{step}_bn")(x)
        x = keras.layers.ReLU(name=f"upsample{step}_relu")(x)
    x = keras.layers.Conv2DTranspose(
        input_shape[-1], 4, strides=2, padding="same", activation="tanh", name=f"upsample{steps}"
    )(x)
    pixels = keras.layers.Rescaling(127.5, offset=127.5, name="to_pixels")(x)
    return keras.Model(inputs, pixels, name="generator")


def build_discriminator(input_shape, num_classes=0, filters=FILTERS, dropout=0.3):
    """The discriminator: 0-255 pixels -> strided convolutions, LeakyReLU, dropout -> one logit.

    With `num_classes` it takes `[pixels, label]`: the logit gains the projection
    of the features on a label embedding (Miyato and Koyama 2018), and class
    logits come out beside it (the auxiliary classifier of AC-GAN, Odena et al. 2017).
    """
    steps = _upsamplings(input_shape)
    pixels, x = pixel_input(input_shape, offset=-1.0, scale=1 / 127.5)
    for step in range(1, steps + 1):
        x = keras.layers.Conv2D(filters * 2 ** (step - 1), 4, strides=2, padding="same", name=f"conv{step}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{step}_leaky_relu")(x)
        x = keras.layers.Dropout(dropout, name=f"conv{step}_dropout")(x)
    features = keras.layers.Flatten(name="flatten")(x)
    logit = keras.layers.Dense(1, name="real_logit")(features)
    if not num_classes:
        return keras.Model(pixels, logit, name="discriminator")
    label = keras.Input((), dtype="int32", name="label")
    embedded = keras.layers.Embedding(num_classes, features.shape[-1], name="label_projection")(label)
    projection = keras.layers.Dot(axes=1, name="projection")([embedded, features])
    logit = keras.layers.Add(name="conditional_logit")([logit, projection])
    class_logits = keras.layers.Dense(num_classes, name="class_logits")(features)
    return keras.Model([pixels, label], [logit, class_logits], name="discriminator")


@register_model(
    task="image_generation",
    input_shape=_DIGITS,
    recipe=_GAN_RECIPE,
    paper="Radford, Metz and Chintala 2016, 'Unsupervised representation learning with deep "
    "convolutional generative adversarial networks'",
)
def dcgan(num_classes=10, input_shape=_DIGITS, latent_dim=LATENT_DIM, filters=FILTERS, seed=None):
    """DCGAN: a transposed-convolution generator against a strided-convolution discriminator.

    `num_classes` is not used: the model is unconditional.
    """
    del num_classes
    return GAN(
        build_generator(input_shape, latent_dim, filters=filters),
        build_discriminator(input_shape, filters=filters),
        latent_dim=latent_dim,
        seed=seed,
        name="dcgan",
    )


@register_model(
    task="image_generation",
    input_shape=_DIGITS,
    recipe=_GAN_RECIPE,
    paper="Mirza and Osindero 2014, 'Conditional generative adversarial nets'; the auxiliary "
    "classifier of Odena, Olah and Shlens 2017, 'Conditional image synthesis with auxiliary classifier GANs'",
)
def conditional_dcgan(num_classes=10, input_shape=_DIGITS, latent_dim=LATENT_DIM, filters=FILTERS, seed=None):
    """Conditional DCGAN (AC-GAN): generates an image of the class asked for, `[noise, label] -> pixels`."""
    return GAN(
        build_generator(input_shape, latent_dim, num_classes, filters),
        build_discriminator(input_shape, num_classes, filters),
        latent_dim=latent_dim,
        num_classes=num_classes,
        seed=seed,
        name="conditional_dcgan",
    )
