"""Data loaders: IDX files written byte by byte in the test, npz, digits, the shared MNIST copy."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from reluscope import ModelFileError
from reluscope.datasets import Dataset, default_data_path, load_digits, load_mnist, read_idx


def write_idx(path, arr, code=0x08, fmt=">B", compress=False):
    """IDX by the specification (LeCun et al.): 0, 0, type code, ndim, big-endian dims, big-endian data."""
    arr = np.asarray(arr)
    raw = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    raw += b"".join(struct.pack(fmt, v) for v in arr.ravel().tolist())
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def mnist_folder(tmp_path, n_train=5, n_test=3, compress=True):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, size=(n_train, 4, 3)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, size=n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(n_test, 4, 3)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, size=n_test),
    }
    for name, a in arrays.items():
        write_idx(tmp_path / (name + (".gz" if compress else "")), a, compress=compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_types_and_shapes(tmp_path, compress):
    a = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", a, compress=compress)), a)
    f = np.array([1.5, -2.25, 3.0])
    out = read_idx(write_idx(tmp_path / "f", f, code=0x0D, fmt=">f", compress=compress))
    assert out.dtype == np.float32 and out.tolist() == [1.5, -2.25, 3.0]
    i = np.array([[-70000, 5]])
    assert read_idx(write_idx(tmp_path / "i", i, code=0x0C, fmt=">i")).tolist() == [[-70000, 5]]


def test_read_idx_rejects_bad_files(tmp_path):
    with pytest.raises(ModelFileError, match="No such"):
        read_idx(tmp_path / "missing")
    p = write_idx(tmp_path / "t", np.arange(6).reshape(2, 3))
    p.write_bytes(p.read_bytes()[:-2])
    with pytest.raises(ModelFileError, match="truncated"):
        read_idx(p)
    (tmp_path / "magic").write_bytes(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ModelFileError, match="magic"):
        read_idx(tmp_path / "magic")
    (tmp_path / "code").write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ModelFileError, match="type code"):
        read_idx(tmp_path / "code")
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 3)
    with pytest.raises(ModelFileError, match="gzip"):
        read_idx(tmp_path / "bad.gz")


@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_folder_scales_and_flattens(tmp_path, compress):
    arrays = mnist_folder(tmp_path, compress=compress)
    d = load_mnist(tmp_path, name="tiny")
    assert isinstance(d, Dataset) and d.name == "tiny" and d.image_shape == (4, 3)
    np.testing.assert_array_equal(d.x_train, arrays["train-images-idx3-ubyte"].reshape(5, 12) / 255.0)
    np.testing.assert_array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
    assert load_mnist(tmp_path, dtype=np.float32).x_test.dtype == np.float32


def test_load_mnist_inconsistent_or_missing(tmp_path):
    mnist_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(7) % 10, compress=True)
    with pytest.raises(ModelFileError, match="labels for"):
        load_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ModelFileError, match="t10k-labels"):
        load_mnist(tmp_path)
    with pytest.raises(ModelFileError, match="folder of MNIST"):
        load_mnist(tmp_path / "nothing-here")


def test_load_mnist_npz(tmp_path):
    p = tmp_path / "d.npz"
    x = np.linspace(0, 1, 2 * 6).reshape(2, 6)
    np.savez(p, x_train=x, y_train=[1, 2], x_test=x[:1], y_test=[3])
    d = load_mnist(p)
    np.testing.assert_array_equal(d.x_train, x)
    assert d.image_shape == (6,) and d.n_classes == 4
    np.savez(p, x_train=x * 2, y_train=[1, 2], x_test=x[:1], y_test=[3])
    with pytest.raises(ModelFileError, match=r"\[0, 1\]"):
        load_mnist(p)
    np.savez(p, x_train=x, y_train=[1, 2])
    with pytest.raises(ModelFileError, match="lacks"):
        load_mnist(p)
    p.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError):
        load_mnist(p)


def test_digits_split_and_subset():
    d = load_digits()
    assert d.x_train.shape == (1347, 64) and d.x_test.shape == (450, 64)
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    # stratified: every class in both parts, in proportion within one image
    counts = np.bincount(d.y_test, minlength=10)
    assert counts.min() >= 43 and counts.max() <= 46
    s = d.subset(100, 20, seed=1)
    assert s.x_train.shape == (100, 64) and s.y_test.shape == (20,)
    assert np.array_equal(d.subset(100, 20, seed=1).y_train, s.y_train)


def test_default_path_prefers_the_environment(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("RELUSCOPE_DATA", str(tmp_path))
    assert default_data_path("mnist") == tmp_path / "mnist"
    monkeypatch.delenv("RELUSCOPE_DATA")
    assert default_data_path("no-such-dataset") is None


def test_missing_data_is_a_clear_error(monkeypatch):
    import reluscope.datasets as ds

    monkeypatch.setattr(ds, "default_data_path", lambda name="mnist": None)
    with pytest.raises(ModelFileError, match="shared/data/mnist"):
        ds.load_dataset("mnist")
    with pytest.raises(ModelFileError, match="No 'path' given"):
        ds.load_mnist()


SHARED = default_data_path("mnist")


@pytest.mark.skipif(SHARED is None, reason="no shared MNIST copy")
def test_shared_mnist_files_match_their_published_checksums_and_headers():
    md5 = {"t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
           "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432"}
    for name, digest in md5.items():
        assert hashlib.md5((SHARED / name).read_bytes()).hexdigest() == digest
    y = read_idx(SHARED / "t10k-labels-idx1-ubyte.gz")
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))
    raw = gzip.decompress((SHARED / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert struct.unpack(">IIII", raw[:16]) == (2051, 10000, 28, 28)
