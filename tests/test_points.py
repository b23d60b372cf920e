"""read_points: user point files (CSV or .npy) to ((x, y), ...), with ConfigErrors that name
the custom_points setting for every bad file."""
import io
import pickle

import numpy as np
import pytest

from gan_core.config import MAX_CUSTOM_POINTS, ConfigError, TrainConfig
from gan_core.points import MAX_POINTS_FILE_BYTES, read_points

EXPECTED = ((1.0, 2.0), (-3.5, 0.25), (1000.0, -0.001))


def npy_bytes(array, allow_pickle=False) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=allow_pickle)
    return out.getvalue()


def fails(source, match=None) -> str:
    with pytest.raises(ConfigError) as info:
        read_points(source)
    message = str(info.value)
    assert message.startswith("custom_points"), message
    if match:
        assert match in message, message
    return message


# ---------------------------------------------------------------------------- good files
@pytest.mark.parametrize("text", [
    "1,2\n-3.5,0.25\n1e3,-1e-3\n",
    "x,y\n1,2\n-3.5,0.25\n1e3,-1e-3\n",
    "X , Y\r\n1 , 2\r\n-3.5,0.25\r\n1000,-0.001",
    "1;2\n-3.5;0.25\n1e3;-1e-3\n",
    "x;y\n1;2\n\n-3.5;0.25\n   \n1000;-0.001\n\n",
    "\ufeffx,y\n1,2\n-3.5,0.25\n1e3,-1e-3\n",          # Excel's BOM
], ids=["plain", "header", "spaces-crlf", "semicolons", "semicolons-blank-lines", "bom"])
def test_csv_variants(text):
    assert read_points(text.encode("utf-8")) == EXPECTED


def test_csv_from_a_path(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("x,y\n1,2\n-3.5,0.25\n1000,-0.001\n")
    assert read_points(p) == EXPECTED
    assert read_points(str(p)) == EXPECTED


def test_result_is_tuples_of_python_floats():
    points = read_points(b"1,2\n3,4\n")
    assert isinstance(points, tuple)
    for p in points:
        assert isinstance(p, tuple) and len(p) == 2
        assert all(type(v) is float for v in p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_npy_bytes_and_path(tmp_path, dtype):
    array = np.array([[1, 2], [-3, 4], [5, 6]], dtype=dtype)
    expected = ((1.0, 2.0), (-3.0, 4.0), (5.0, 6.0))
    assert read_points(npy_bytes(array)) == expected
    p = tmp_path / "pts.npy"
    np.save(p, array)
    assert read_points(p) == expected


def test_points_feed_a_custom_config():
    cfg = TrainConfig(dataset="custom", custom_points=read_points(b"x,y\n0,0\n1,1\n"))
    assert cfg.custom_points == ((0.0, 0.0), (1.0, 1.0))


def test_exactly_max_points_is_fine():
    text = "\n".join(f"{i},{-i}" for i in range(MAX_CUSTOM_POINTS))
    points = read_points(text.encode())
    assert len(points) == MAX_CUSTOM_POINTS
    assert points[-1] == (MAX_CUSTOM_POINTS - 1.0, -(MAX_CUSTOM_POINTS - 1.0))


# ---------------------------------------------------------------------------- bad files
@pytest.mark.parametrize("data", [b"", b"   \n\n  \r\n"], ids=["empty", "blank"])
def test_empty(data, tmp_path):
    fails(data, match="empty")
    p = tmp_path / "empty.csv"
    p.write_bytes(data)
    fails(p, match="empty")


def test_one_column():
    fails(b"1\n2\n3\n", match="two columns")
    fails(b"x\n1\n2\n")


@pytest.mark.parametrize("data", [
    b"hello world\nthis is not a csv\n",
    b"x,y\n1,2\nfoo,bar\n",
    b"1,2\n3,four\n",
    b"x,y\n",                                   # a header and no points
    b"<html><body>,</body></html>",
], ids=["prose", "words-after-header", "word-in-row", "header-only", "html"])
def test_text_garbage(data):
    fails(data)


def test_bad_line_is_named():
    message = fails(b"x,y\n1,2\n3,4\noops,5\n")
    assert "line 4" in message


def test_binary_garbage():
    fails(np.random.default_rng(0).bytes(2000))


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e400"])
def test_non_finite_values(bad):
    fails(f"1,2\n3,{bad}\n".encode(), match="NaN or infinite")
    fails(npy_bytes(np.array([[1.0, 2.0], [float(bad), 0.0]])), match="NaN or infinite")


def test_too_many_points():
    text = "\n".join(f"{i},{i}" for i in range(MAX_CUSTOM_POINTS + 1))
    fails(text.encode(), match="at most")
    fails(npy_bytes(np.zeros((MAX_CUSTOM_POINTS + 1, 2))), match="at most")


def test_file_too_large(tmp_path):
    p = tmp_path / "big.csv"
    p.write_bytes(b"1,2\n" * (MAX_POINTS_FILE_BYTES // 4 + 1))
    fails(p, match="larger")
    fails(p.read_bytes(), match="larger")


def test_missing_file(tmp_path):
    fails(tmp_path / "nope.csv", match="no file")
    fails(tmp_path, match="no file")                     # a directory is not a file


@pytest.mark.parametrize("array", [
    np.zeros((4, 3)), np.zeros(6), np.zeros((0, 2)), np.zeros((2, 2, 2)), np.array(3.0),
], ids=["3-columns", "1d", "no-rows", "3d", "scalar"])
def test_npy_of_the_wrong_shape(array):
    fails(npy_bytes(array), match="two numbers")


def test_npy_of_strings():
    fails(npy_bytes(np.array([["a", "b"], ["c", "d"]])))


def test_truncated_npy():
    data = npy_bytes(np.arange(200, dtype=float).reshape(100, 2))
    fails(data[: len(data) // 2])
    fails(data[:20])                                      # inside the header


class WritesMarker:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_pickled_npy_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "marker"
    array = np.empty((2, 2), dtype=object)
    array[:] = [[1.0, 2.0], [WritesMarker(marker), 4.0]]
    data = npy_bytes(array, allow_pickle=True)
    assert data[:6] == b"\x93NUMPY"
    # sanity: this payload does run code when unpickled with pickle allowed
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(WritesMarker(probe)))
    assert probe.exists()
    fails(data)
    assert not marker.exists()
    p = tmp_path / "evil.npy"
    p.write_bytes(data)
    fails(p)
    assert not marker.exists()


def test_plain_object_array_npy_is_refused():
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=object)
    fails(npy_bytes(array, allow_pickle=True))
