"""``reluscope build`` / ``reluscope plot`` and the two plotting functions."""

import numpy as np
import pytest
from click.testing import CliRunner

from reluscope import InvalidParameterError, Network, ShapeError
from reluscope.build import hat, logo, sawtooth, sort
from reluscope.cli import cli
from reluscope.plotting import plot_function_1d, plot_image_2d

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(args):
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize(
    ("args", "x", "y"),
    [
        (["interpolate", "--xs", "0,1,2", "--ys", "0,2,0"], [[0.5], [3.0]], [1.0, -2.0]),
        (["relu"], [[-1.0], [2.0]], [0.0, 2.0]),
        (["abs"], [[-3.0]], [3.0]),
        (["clip", "--a", "-1", "--b", "1"], [[5.0], [-5.0]], [1.0, -1.0]),
        (["hat", "--a", "0", "--b", "1", "--c", "2"], [[1.0], [1.5]], [1.0, 0.5]),
        (["bucket", "--a", "0", "--b", "1", "--c", "2", "--d", "3"], [[1.5], [2.5]], [1.0, 0.5]),
        (["step", "--eps", "0.5"], [[0.25], [1.0]], [0.5, 1.0]),
        (["leaky-relu", "--alpha", "0.2"], [[-1.0]], [-0.2]),
        (["max2", "--bound", "2"], [[1.0, -2.0]], [1.0]),
        (["min2"], [[1.0, -2.0]], [-2.0]),
        (["maximum", "--n", "3"], [[1.0, 5.0, 2.0]], [5.0]),
        (["minimum", "--n", "3", "--bound", "5"], [[1.0, 5.0, 2.0]], [1.0]),
        (["median", "--n", "5"], [[5.0, 1.0, 4.0, 2.0, 3.0]], [3.0]),
        (["rank", "--n", "4", "--k", "3"], [[5.0, 1.0, 4.0, 2.0]], [5.0]),
        (["sawtooth", "--levels", "2"], [[-1.0], [0.0]], [-2.0, 2.0]),
        (["shallow-sawtooth", "--levels", "2"], [[-1.0], [0.0]], [-2.0, 2.0]),
        (["square", "--m", "2"], [[0.5]], [0.25]),
        (["multiply", "--m", "3", "--bound", "2"], [[0.0, 1.5]], [0.0]),
        (["polygon", "--vertices", "0,0;1,0;0,1", "--margin", "0.1"], [[0.2, 0.2], [2.0, 2.0]], [1.0, 0.0]),
        (["shape", "--polygon", "0,0;4,0;4,4;0,4", "--hole", "1,1;3,1;3,3;1,3"], [[0.5, 0.5], [2.0, 2.0]],
         [1.0, 0.0]),
        (["lattice", "--pieces", "1,0;-1,2;0,0.5", "--groups", "0,1;0,2"], [[0.25], [3.0]], [0.25, 0.5]),
        (["logo"], [[-0.45, 0.45]], [1.0]),
        (["approximate", "--function", "square", "--lo", "0", "--hi", "1", "--pieces", "4"], [[0.5]], [0.25]),
    ],
)
def test_build_every_kind(tmp_path, args, x, y):
    out = tmp_path / "net.npz"
    r = _run(["build", *args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"wrote {out}")
    net = Network.load(out)
    np.testing.assert_allclose(net(np.array(x)).ravel(), y, rtol=0, atol=1e-9)


def test_build_sort_reports_all_cost_models(tmp_path):
    out = tmp_path / "s.npz"
    r = _run(["build", "sort", "--n", "10", "--prefer", "depth", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "comparators 31, depth 7; units: plain 140, box 101, residual 31" in r.output
    assert Network.load(out) == sort(10, prefer="depth")


def test_build_onnx(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("reluscope.io.onnx")
    out = tmp_path / "h.onnx"
    r = _run(["build", "hat", "--a", "0", "--b", "1", "--c", "3", "-o", str(out)])
    assert r.exit_code == 0, r.output
    x = np.array([[0.5], [2.0]])
    np.testing.assert_allclose(Network.load(out)(x), hat(0, 1, 3)(x), atol=1e-12)


@pytest.mark.parametrize(
    "args",
    [
        ["clip", "--a", "2", "--b", "1"],
        ["interpolate", "--xs", "0,1,x", "--ys", "0,1,2"],
        ["polygon", "--vertices", "0,0;2,2;2,0;0,1"],
        ["sort", "--n", "12"],
    ],
)
def test_build_bad_input_is_one_line_and_writes_nothing(tmp_path, args):
    r = _run(["build", *args, "-o", str(tmp_path / "x.npz")])
    assert r.exit_code == 1
    assert r.output.startswith("error: ") and "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []


def test_plot_1d_and_2d(tmp_path):
    saw, lg = tmp_path / "saw.npz", tmp_path / "logo.npz"
    sawtooth(3).save(saw)
    logo().save(lg)
    for model, extra in ((saw, []), (lg, ["--resolution", "60"]), (saw, ["--lo", "-1", "--hi", "1"])):
        png = tmp_path / f"{model.stem}.png"
        r = _run(["plot", str(model), "-o", str(png), *extra])
        assert r.exit_code == 0, r.output
        assert png.read_bytes()[:8] == PNG_MAGIC


def test_plot_refuses_three_inputs_and_bad_suffix(tmp_path):
    p = tmp_path / "n.npz"
    Network.random([3, 4, 1], seed=0).save(p)
    r = _run(["plot", str(p), "-o", str(tmp_path / "n.png")])
    assert r.exit_code == 1 and "1 or 2 inputs" in r.output
    r = _run(["plot", str(p), "-o", str(tmp_path / "n.txt")])
    assert r.exit_code == 1
    assert sorted(q.name for q in tmp_path.iterdir()) == ["n.npz"]


# ---------------------------------------------------------------------- plotting functions
def test_plot_function_1d_marks_the_kinks_and_passes_kwargs():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    lines = plot_function_1d(sawtooth(3), -2.5, 2.5, ax, color="m", linewidth=3)
    graph, kinks = lines
    assert graph.get_color() == "m" and graph.get_linewidth() == 3
    np.testing.assert_allclose(kinks.get_xdata(), -2.0 + 0.5 * np.arange(1, 8), atol=1e-12)
    # the graph passes through the exact breakpoints, so it equals the network between them
    xs, ys = graph.get_xdata(), graph.get_ydata()
    np.testing.assert_allclose(ys, sawtooth(3)(np.asarray(xs)[:, None]).ravel())
    assert xs[0] == -2.5 and xs[-1] == 2.5


def test_plot_function_1d_ignores_breakpoints_without_a_kink():
    from matplotlib.figure import Figure

    # the second unit switches at x = 1 but has output weight 0: a breakpoint, not a kink
    net = Network([(np.array([[1.0], [1.0]]), np.array([0.0, -1.0]), "relu"),
                   (np.array([[1.0, 0.0]]), np.zeros(1), "identity")])
    _, kinks = plot_function_1d(net, -2, 2, Figure().subplots())
    np.testing.assert_allclose(kinks.get_xdata(), [0.0])


def test_plot_image_2d_values_and_kwargs():
    from matplotlib.figure import Figure

    net = logo()
    im = plot_image_2d(net, (-1, 1, -0.5, 0.5), Figure().subplots(), resolution=40, cmap="gray")
    Z = np.asarray(im.get_array())
    assert Z.shape == (20, 40) and im.get_cmap().name == "gray"
    xs = -1 + (np.arange(40) + 0.5) * 2 / 40
    ys = -0.5 + (np.arange(20) + 0.5) * 1 / 20
    X, Y = np.meshgrid(xs, ys)
    np.testing.assert_allclose(Z, net(np.column_stack([X.ravel(), Y.ravel()])).reshape(20, 40))
    assert tuple(im.get_extent()) == (-1, 1, -0.5, 0.5)


def test_plotting_input_checks():
    with pytest.raises(ShapeError):
        plot_function_1d(logo(), 0, 1)
    with pytest.raises(ShapeError):
        plot_image_2d(sawtooth(2), (0, 1, 0, 1))
    with pytest.raises(InvalidParameterError, match="'bounds'"):
        plot_image_2d(logo(), (1, 0, 0, 1))
    with pytest.raises(InvalidParameterError, match="'output'"):
        plot_function_1d(sawtooth(2), 0, 1, output=1)

