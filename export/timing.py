"""Batch-1 latency of several TFLite files, measured so that a noisy machine hurts every file alike.

One file timed after another sees whatever else the machine did at that moment: on shared
cores two files' medians drift by tens of percent from run to run, and a ratio of two such
medians can land on either side of 1. Here the files of one export are timed in alternating
rounds: in round r each file (in turn, the order rotated every round) is invoked `invokes`
times after `warmup` untimed invokes, and each round gives each file the median of its
invokes. A file's latency is the median of its round medians, with their spread (the lowest
and highest round median); the ratio of two files is the median of their per-round ratios,
both measured in the same process and the same rounds.
"""

import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

ROUNDS, INVOKES, WARMUP = 7, 300, 30  # 7 rounds of 300 timed invokes per file, each after 30 untimed


def in_turn(run, examples):
    """A call that runs `run(example)` on the next of `examples` each time, starting again after the last."""
    position = [0]

    def call():
        run(examples[position[0] % len(examples)])
        position[0] += 1

    return call


def interpreter_call(path, model_input, num_threads=1):
    """`invoke` of a LiteRT interpreter of `path` on one thread, its inputs set to `model_input`.

    Args:
        path: a `.tflite` file.
        model_input: a batch of one as the file takes it, or a list of them in the file's input order. A
            batch of n > 1 examples for a file that takes one is cycled through: each call sets the next
            example, then invokes (for a file whose time depends on its input, e.g. a translation's steps).
    """
    interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    interpreter.allocate_tensors()
    model_inputs = model_input if isinstance(model_input, list) else [model_input]
    details = interpreter.get_input_details()
    examples = len(model_inputs[0])
    if examples > 1 and details[0]["shape"][0] == 1:

        def run(row):
            for detail, value in zip(details, row):
                interpreter.set_tensor(detail["index"], value)
            interpreter.invoke()

        return in_turn(run, [[value[index : index + 1] for value in model_inputs] for index in range(examples)])
    for detail, value in zip(details, model_inputs):
        interpreter.set_tensor(detail["index"], value)
    return interpreter.invoke


def time_call(call, invokes, warmup):
    """The times of `invokes` calls of `call()` in milliseconds, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    times = np.empty(invokes)
    for index in range(invokes):
        start = time.perf_counter()
        call()
        times[index] = time.perf_counter() - start
    return times * 1000


def alternating_rounds(calls, rounds=ROUNDS, invokes=INVOKES, warmup=WARMUP):
    """Times `{name: call}` in alternating rounds; returns `{name: {median, p90, spread, ...}}` in ms.

    `median` is the median of the round medians, `spread` `[lowest, highest]` round median, `p90`
    the 90th percentile of every timed invoke, `round_medians` each round's median in round order.
    """
    names = list(calls)
    if not names:
        return {}
    per_round = {name: [] for name in names}
    every = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times = time_call(calls[name], invokes, warmup)
            per_round[name].append(float(np.median(times)))
            every[name].append(times)
    return {
        name: dict(
            median=float(np.median(per_round[name])),
            p90=float(np.percentile(np.concatenate(every[name]), 90)),
            spread=[min(per_round[name]), max(per_round[name])],
            round_medians=per_round[name],
            rounds=rounds,
            invokes=invokes,
            warmup=warmup,
        )
        for name in names
    }


def alternating_latency_ms(files, rounds=ROUNDS, invokes=INVOKES, warmup=WARMUP):
    """Batch-1 latency of TFLite files timed in alternating rounds (see the module's docstring).

    Args:
        files: `{file name: (path, model_input)}`, `model_input` as `interpreter_call` takes it.
        rounds, invokes, warmup: per round and file, timed and untimed invokes.

    Returns:
        `{file name: dict(median, p90, spread, round_medians, rounds, invokes, warmup)}`, in milliseconds.
    """
    calls = {name: interpreter_call(path, model_input) for name, (path, model_input) in files.items()}
    return alternating_rounds(calls, rounds, invokes, warmup)


def ratio(latency_a, latency_b):
    """The median over rounds of `latency_a`'s round median over `latency_b`'s (same `alternating_rounds`)."""
    return float(np.median(np.divide(latency_a["round_medians"], latency_b["round_medians"])))
