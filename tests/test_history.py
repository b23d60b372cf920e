"""History: per-iteration rows with bounded memory, evenly thinned over the whole run."""
import math

import numpy as np
import pytest

from gan_core.history import History


def fill(history, iterations):
    for i in iterations:
        history.append(i, {"a": 2.0 * i, "b": -float(i)})


def test_append_and_as_arrays():
    h = History(("a", "b"), capacity=10)
    assert len(h) == 0
    assert h.last() == {}
    assert set(h.as_arrays()) == {"iteration", "a", "b"}
    assert all(len(v) == 0 for v in h.as_arrays().values())
    h.append(1, {"a": 0.5, "b": 1.5})
    h.append(2, {"a": -3.0})                       # a missing column is NaN
    arrays = h.as_arrays()
    assert h.columns == ("iteration", "a", "b")
    assert list(arrays) == ["iteration", "a", "b"]
    np.testing.assert_array_equal(arrays["iteration"], [1, 2])
    np.testing.assert_array_equal(arrays["a"], [0.5, -3.0])
    assert arrays["b"][0] == 1.5 and math.isnan(arrays["b"][1])
    assert len(h) == 2
    last = h.last()
    assert last["iteration"] == 2 and last["a"] == -3.0 and math.isnan(last["b"])
    assert all(type(v) is float for v in last.values())


def test_as_arrays_returns_copies():
    h = History(("a",), capacity=10)
    h.append(1, {"a": 1.0})
    arrays = h.as_arrays()
    arrays["a"][0] = 99.0
    assert h.as_arrays()["a"][0] == 1.0


def test_unknown_values_are_ignored():
    h = History(("a",), capacity=4)
    h.append(1, {"a": 1.0, "zzz": 5.0})
    assert set(h.as_arrays()) == {"iteration", "a"}


def test_capacity_must_be_at_least_two():
    with pytest.raises(ValueError):
        History(("a",), capacity=1)


def test_no_thinning_below_capacity():
    h = History(("a", "b"), capacity=1000)
    fill(h, range(1, 1001))
    assert len(h) == 1000 and h.stride == 1
    np.testing.assert_array_equal(h.as_arrays()["iteration"], np.arange(1, 1001))


@pytest.mark.parametrize("first", [1, 0], ids=["from-1", "from-0"])
def test_capacity_bound_over_a_long_run(first):
    n, capacity = 100_000, 1_000
    h = History(("a", "b"), capacity=capacity)
    for i in range(first, first + n):
        h.append(i, {"a": 2.0 * i, "b": -float(i)})
        if i % 997 == 0:
            assert len(h) <= capacity
    assert capacity // 2 <= len(h) <= capacity
    arrays = h.as_arrays()
    it = arrays["iteration"]
    steps = np.diff(it)
    assert (steps > 0).all(), "strictly increasing"
    assert len(set(steps.tolist())) == 1, f"evenly strided, got steps {sorted(set(steps))}"
    stride = int(steps[0])
    assert stride == h.stride
    assert stride & (stride - 1) == 0, "the stride only ever doubles"
    # n / stride rows at most, and about half of capacity at least: stride ~ n / capacity
    assert n / capacity <= stride <= 2 * n / capacity
    # the kept rows span the whole run
    assert it[0] <= first + stride
    assert it[-1] > first + n - 1 - stride
    assert (it % stride == 0).all()
    # the values travelled with their iteration
    np.testing.assert_array_equal(arrays["a"], 2 * it)
    np.testing.assert_array_equal(arrays["b"], -it)


def test_thinning_at_the_first_overflow():
    h = History(("a", "b"), capacity=8)
    fill(h, range(1, 10))              # 9 iterations: overflow at the 9th
    assert h.stride == 2
    np.testing.assert_array_equal(h.as_arrays()["iteration"], [2, 4, 6, 8])
    fill(h, range(10, 13))
    np.testing.assert_array_equal(h.as_arrays()["iteration"], [2, 4, 6, 8, 10, 12])


def test_state_round_trip():
    h = History(("a", "b"), capacity=64)
    fill(h, range(1, 501))
    state = h.state()
    assert state["columns"] == ["a", "b"]
    assert state["capacity"] == 64
    restored = History.from_state(state)
    assert restored.columns == h.columns
    assert restored.capacity == h.capacity and restored.stride == h.stride > 1
    assert len(restored) == len(h)
    for name, values in h.as_arrays().items():
        np.testing.assert_array_equal(restored.as_arrays()[name], values)
    # both continue identically, through further thinning
    fill(h, range(501, 3001))
    fill(restored, range(501, 3001))
    assert restored.stride == h.stride
    for name, values in h.as_arrays().items():
        np.testing.assert_array_equal(restored.as_arrays()[name], values)


def test_state_is_a_copy():
    h = History(("a",), capacity=8)
    h.append(1, {"a": 1.0})
    state = h.state()
    state["rows"][0, 1] = 42.0
    assert h.as_arrays()["a"][0] == 1.0


def test_from_state_accepts_plain_lists_and_rejects_overfull_rows():
    restored = History.from_state({"columns": ["a"], "capacity": 4, "stride": 1,
                                   "rows": [[1, 10.0], [2, 20.0]]})
    np.testing.assert_array_equal(restored.as_arrays()["a"], [10.0, 20.0])
    with pytest.raises(ValueError):
        History.from_state({"columns": ["a"], "capacity": 2, "stride": 1,
                            "rows": [[1, 1.0], [2, 2.0], [3, 3.0]]})


@pytest.mark.parametrize("capacity,stride", [(1, 1), (10 ** 12, 1), (-5, 1), (100, 0),
                                             (100, -2)])
def test_from_state_rejects_impossible_capacity_or_stride(capacity, stride):
    """A state read from a file must not allocate terabytes or divide by a zero stride."""
    with pytest.raises(ValueError):
        History.from_state({"columns": ["a"], "capacity": capacity, "stride": stride,
                            "rows": [[2, 1.0]]})
