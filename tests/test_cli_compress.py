"""`reluscope stable` and `reluscope compress` on a network with hand-derived stability."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from reluscope import Network
from reluscope.cli import cli


def _planted(path):
    # On [0, 1]^2: unit 0 = x - 0.5 switches; unit 1 = y + 2 and unit 2 = 2y + 1 are always on
    # and unit 2 = 2 * unit 1 - 3 (dependent); unit 3 = -x - y - 3 is always off.
    W = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0], [-1.0, -1.0]])
    net = Network([(W, np.array([-0.5, 2.0, 1.0, -3.0]), "relu"),
                   (np.array([[1.0, 1.0, 1.0, 4.0]]), np.zeros(1), "identity")])
    net.save(path)
    return net


def test_stable_table_and_json(tmp_path):
    _planted(tmp_path / "m.npz")
    r = CliRunner().invoke(cli, ["stable", str(tmp_path / "m.npz"), "--box", "0", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if line.startswith("0 "))
    assert row.split()[:5] == ["0", "4", "2", "1", "1"]   # layer, units, active, inactive, unstable
    r = CliRunner().invoke(cli, ["stable", str(tmp_path / "m.npz"), "--box", "0", "1", "--json"])
    out = json.loads(r.output)
    assert out["status"] == ["unstable", "stably_active", "stably_active", "stably_inactive"]
    assert out["lower"][1] == pytest.approx(2.0) and out["upper"][3] == pytest.approx(-3.0)


@pytest.mark.parametrize("suffix", [".npz", ".onnx"])
def test_compress_writes_an_equal_smaller_model(tmp_path, suffix):
    net = _planted(tmp_path / "m.npz")
    out = tmp_path / f"small{suffix}"
    r = CliRunner().invoke(cli, ["compress", str(tmp_path / "m.npz"), "--box", "0", "1", "-o", str(out),
                                 "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["widths_after"] == [2, 2, 1]
    assert rep["reasons"] == {"stably_inactive": 1, "dependent": 1}
    assert rep["verification"]["equal"] is True
    small = Network.load(out)
    x = np.random.default_rng(0).uniform(0, 1, (500, 2))
    np.testing.assert_allclose(small(x), net(x), atol=1e-9)


def test_compress_on_the_box_of_the_data(tmp_path):
    _planted(tmp_path / "m.npz")
    # data with x in [0.6, 1]: unit 0 = x - 0.5 is then always on too, so the layer folds
    x = np.random.default_rng(1).uniform([0.6, 0.0], [1.0, 1.0], (200, 2))
    np.save(tmp_path / "x.npy", x)
    r = CliRunner().invoke(cli, ["compress", str(tmp_path / "m.npz"), "--data", str(tmp_path / "x.npy"),
                                 "-o", str(tmp_path / "s.npz"), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "proven equal" in r.output
    assert "stably_inactive 1" in r.output


@pytest.mark.parametrize("args, message", [
    ([], "a bounded input domain is needed"),
    (["--box", "1", "0"], "--box needs LO < HI"),
    (["--box", "0", "nan"], "--box bounds must be finite"),
])
def test_bad_domains_are_refused_and_write_nothing(tmp_path, args, message):
    _planted(tmp_path / "m.npz")
    for cmd in (["stable"], ["compress", "-o", str(tmp_path / "s.npz")]):
        r = CliRunner().invoke(cli, [*cmd, str(tmp_path / "m.npz"), *args])
        assert r.exit_code == 1
        assert message in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
