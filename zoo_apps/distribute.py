"""Where training runs: tf.distribute strategies and mixed precision."""

import json
import os

import keras
import tensorflow as tf

from zoo.errors import ZooError

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def cluster_spec():
    """Returns the parsed TF_CONFIG, checked to describe this worker, or None if unset."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return None
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task_type, index = config["task"]["type"], int(config["task"]["index"])
        assert task_type in config["cluster"] and 0 <= index < len(config["cluster"][task_type])
        assert isinstance(workers, list) and workers
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ZooError(
            "TF_CONFIG is not a valid cluster description: expected "
            '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": N}}. '
            f"Received: TF_CONFIG={text!r}"
        ) from None
    return config


def make_strategy(name, tpu=None):
    """Builds the `tf.distribute` strategy named by the --strategy flag."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if cluster_spec() is None:
            raise ZooError(
                "--strategy=multi_worker needs TF_CONFIG describing the cluster: start the "
                "workers with scripts/launch_local_cluster.py or set TF_CONFIG on each."
            )
        _let_keras_fit_on_multi_worker()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.OpError) as error:
            raise ZooError(f"No TPU found (--tpu={tpu!r}): {error}".splitlines()[0]) from None
        return tf.distribute.TPUStrategy(resolver)
    raise ZooError(f"Unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}.")


def describe(strategy):
    """The --strategy name and replica count of a strategy, for config.json."""
    names = {"CollectiveAllReduceStrategy": "multi_worker", "MirroredStrategy": "mirrored", "TPUStrategy": "tpu"}
    return dict(name=names.get(type(strategy).__name__, "default"), replicas=strategy.num_replicas_in_sync)


def is_chief():
    """True for the worker that writes the run's files (the chief, or worker 0)."""
    config = cluster_spec()
    if config is None:
        return True
    task = config["task"]
    has_chief = "chief" in config["cluster"]
    return task["type"] == "chief" or (not has_chief and task["type"] == "worker" and int(task["index"]) == 0)


def set_mixed_precision(enabled):
    """Computes in float16 on GPUs, bfloat16 elsewhere; variables and logits stay float32."""
    if not enabled:
        keras.mixed_precision.set_global_policy("float32")
        return "float32"
    policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def _let_keras_fit_on_multi_worker():
    """Works around two Keras 3 bugs that stop `fit` under MultiWorkerMirroredStrategy
    (keras-team/keras#20585): the symbolic build all-reduces a data batch eagerly,
    and per-replica scalar logs are reduced over a dimension they do not have.
    """
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer, "_zoo_multi_worker_fix", False):
        return
    build, reduce_per_replica = trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica

    def local_batch_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None or iterator is None:
            return build(self, iterator, data_batch)
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda v: self.distribute_strategy.experimental_local_results(v)[0],
                next(batches),
            )
            break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def mean_over_replicas(values, strategy, reduction="auto"):
        if reduction in ("auto", "mean"):
            return tf.nest.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return reduce_per_replica(values, strategy, reduction)

    trainer.TensorFlowTrainer._maybe_symbolic_build = local_batch_build
    trainer.reduce_per_replica = mean_over_replicas
    trainer._zoo_multi_worker_fix = True
