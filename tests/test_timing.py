"""export.timing: files timed in alternating rounds, the median of round medians, spread and ratio."""

import numpy as np
import pytest

from export import timing


class SlowThenFast:
    """A call whose duration depends on how busy the 'machine' is: busy in the first rounds only."""

    def __init__(self, clock, base):
        self.clock, self.base = clock, base

    def __call__(self):
        self.clock.log.append(self.base)
        self.clock.now += self.base * (3 if self.clock.busy() else 1)


class FakeClock:
    def __init__(self, busy_calls):
        self.now, self.log, self.busy_calls = 0.0, [], busy_calls

    def busy(self):
        return len(self.log) <= self.busy_calls


def test_rounds_alternate_the_files_and_rotate_their_order(monkeypatch):
    clock = FakeClock(busy_calls=0)
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock.now)
    calls = {"a": SlowThenFast(clock, 1.0), "b": SlowThenFast(clock, 2.0), "c": SlowThenFast(clock, 3.0)}
    result = timing.alternating_rounds(calls, rounds=3, invokes=2, warmup=1)
    blocks = [clock.log[i] for i in range(0, len(clock.log), 3)]  # 3 calls (1 warm-up + 2 timed) per file and round
    assert blocks == [1.0, 2.0, 3.0, 2.0, 3.0, 1.0, 3.0, 1.0, 2.0]
    assert {name: value["median"] for name, value in result.items()} == {"a": 1000.0, "b": 2000.0, "c": 3000.0}
    assert result["a"]["round_medians"] == [1000.0] * 3 and result["a"]["spread"] == [1000.0, 1000.0]
    assert result["a"]["rounds"] == 3 and result["a"]["invokes"] == 2


def test_a_busy_spell_hits_both_files_in_the_same_round_so_their_ratio_survives(monkeypatch):
    clock = FakeClock(busy_calls=2 * 11 * 2)  # the first two rounds of two files (1 warm-up + 10 timed) run 3x slower
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock.now)
    calls = {"int8": SlowThenFast(clock, 1.0), "float32": SlowThenFast(clock, 2.0)}
    result = timing.alternating_rounds(calls, rounds=5, invokes=10, warmup=1)
    assert result["int8"]["spread"] == [1000.0, 3000.0] and result["int8"]["median"] == 1000.0
    assert timing.ratio(result["int8"], result["float32"]) == pytest.approx(0.5)


def test_real_invokes_of_a_tflite_file(tmp_path):
    tf = pytest.importorskip("tensorflow")
    module = tf.Module()
    module.f = tf.function(lambda x: tf.nn.relu(x) * 2.0, input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()], module)
    path = tmp_path / "relu.tflite"
    path.write_bytes(converter.convert())
    example = np.ones((1, 4), "float32")
    result = timing.alternating_latency_ms({"one": (path, example), "two": (path, example)}, 3, 20, 2)
    for latency in result.values():
        assert 0 < latency["spread"][0] <= latency["median"] <= latency["spread"][1]
        assert latency["median"] <= latency["p90"] and len(latency["round_medians"]) == 3


def test_a_batch_of_several_examples_is_cycled_one_per_invoke(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from ai_edge_litert.interpreter import Interpreter

    module = tf.Module()
    module.f = tf.function(lambda x: x * 2.0, input_signature=[tf.TensorSpec([1, 2], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()], module)
    path = tmp_path / "double.tflite"
    path.write_bytes(converter.convert())
    examples = np.arange(6, dtype="float32").reshape(3, 2)
    seen = []
    original = Interpreter.set_tensor
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            Interpreter, "set_tensor", lambda self, index, value: (seen.append(value), original(self, index, value))[1]
        )
        call = timing.interpreter_call(path, examples)
        for _ in range(4):
            call()
    # one example per invoke, in turn, starting again after the last
    np.testing.assert_array_equal(np.concatenate(seen), examples[[0, 1, 2, 0]])
    timing.alternating_latency_ms({"cycled": (path, examples)}, 2, 3, 0)  # a batch of 3 never reaches the file
