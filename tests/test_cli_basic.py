import numpy as np
from click.testing import CliRunner

from reluscope import Network
from reluscope.cli import cli


def test_info_bundled_and_file(tmp_path):
    r = CliRunner().invoke(cli, ["info"])
    assert r.exit_code == 0, r.output
    assert "64 -> 16 -> 16 -> 10" in r.output
    p = tmp_path / "n.npz"
    Network.random([2, 5, 1], seed=0).save(p)
    r = CliRunner().invoke(cli, ["info", str(p)])
    assert "2 -> 5 -> 1" in r.output


def test_error_is_one_line_and_nonzero(tmp_path):
    r = CliRunner().invoke(cli, ["info", str(tmp_path / "missing.npz")])
    assert r.exit_code == 1
    assert r.output.strip().startswith("error: No such model file")
    assert "Traceback" not in r.output


def test_convert_npz_to_npz(tmp_path):
    src, dst = tmp_path / "a.npz", tmp_path / "b.npz"
    net = Network.random([3, 4, 2], seed=1)
    net.save(src)
    r = CliRunner().invoke(cli, ["convert", str(src), str(dst)])
    assert r.exit_code == 0, r.output
    assert Network.load(dst) == net


def test_convert_bad_target_leaves_nothing(tmp_path):
    src = tmp_path / "a.npz"
    Network.random([3, 4, 2], seed=1).save(src)
    r = CliRunner().invoke(cli, ["convert", str(src), str(tmp_path / "b.txt")])
    assert r.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]


def test_help_everywhere():
    runner = CliRunner()
    r = runner.invoke(cli, ["--help"])
    assert r.exit_code == 0
    for name in cli.commands:
        r = runner.invoke(cli, [name, "--help"])
        assert r.exit_code == 0, (name, r.output)


def test_bundled_network_accuracy_metadata():
    from reluscope.data import bundled_network

    net = bundled_network()
    assert net.metadata["test_accuracy"] > 0.9
    assert np.all(np.isfinite(net(np.zeros(64))))
