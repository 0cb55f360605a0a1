import os

import numpy as np
import pytest

import reluscope as rs
from reluscope import Network
from reluscope.io import load, save


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "hardtanh", "abs"])
def test_npz_round_trip_is_exact(tmp_path, act):
    net = Network.random([3, 5, 4, 2], seed=0, activation=act)
    p = tmp_path / "net.npz"
    save(net, p)
    back = load(p)
    assert back == net
    x = np.random.default_rng(0).normal(size=(10, 3))
    assert np.array_equal(back(x), net(x))


def test_npz_keeps_metadata(tmp_path):
    net = Network.random([2, 3, 1], seed=4)
    net.save(tmp_path / "a.npz")
    assert Network.load(tmp_path / "a.npz").metadata["seed"] == 4


def test_unknown_extension(tmp_path):
    p = tmp_path / "model.h5"
    p.write_bytes(b"x")
    with pytest.raises(rs.ModelFileError, match=r"\.h5"):
        load(p)
    with pytest.raises(rs.ModelFileError, match="Unknown model file type"):
        save(Network.random([2, 3, 1], seed=0), tmp_path / "out.xyz")
    assert not (tmp_path / "out.xyz").exists()


def test_missing_file(tmp_path):
    with pytest.raises(rs.ModelFileError, match="No such model file"):
        load(tmp_path / "nope.npz")


def test_truncated_npz(tmp_path):
    net = Network.random([3, 5, 1], seed=0)
    p = tmp_path / "net.npz"
    save(net, p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(rs.ModelFileError, match="truncated or corrupt"):
        load(p)


def test_foreign_npz_and_pickled_object_refused(tmp_path):
    p = tmp_path / "other.npz"
    np.savez(p, a=np.ones(3))
    with pytest.raises(rs.ModelFileError, match="not a reluscope network"):
        load(p)
    q = tmp_path / "evil.npz"
    np.savez(q, format=np.array("reluscope"), version=np.array(1), n_layers=np.array(1),
             metadata=np.array("{}"), W0=np.array([object()], dtype=object), b0=np.zeros(1),
             act0=np.array("relu"), actp0=np.zeros(0))
    with pytest.raises(rs.ModelFileError):
        load(q)


def test_save_failure_leaves_no_file(tmp_path, monkeypatch):
    net = Network.random([2, 3, 1], seed=0)
    target = tmp_path / "net.npz"

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        save(net, target)
    assert os.listdir(tmp_path) == []
