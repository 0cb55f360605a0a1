"""Helpers shared by the Hanin & Rolnick reproductions (and ``bias-weight-scale``).

* geometry: the plane through three points (:func:`plane_through`) and a square
  around them (:func:`square_around`), as in Hanin & Rolnick's 2-D cross-sections;
* per-unit derivatives (:func:`unit_jacobians`), the exact distance from a point to
  the boundary of its activation region (:func:`boundary_distance`) and an empirical
  ``C_grad`` (:func:`empirical_c_grad`), the constant of the papers' bounds;
* a small PyTorch training loop that starts from a given :class:`~reluscope.Network`
  and keeps a copy of the network at chosen epochs (:func:`train_with_snapshots`);
* output plumbing: CSV text, atomic writes, and the failed-claims error.

References
----------
B. Hanin, D. Rolnick, "Complexity of linear regions in deep networks", ICML 2019;
"Deep ReLU networks have surprisingly few activation patterns", NeurIPS 2019.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DomainError, InvalidParameterError, ShapeError
from .._validation import as_float_array
from ..network import Network
from ._output import raise_failed, write_files

__all__ = [
    "plane_through",
    "square_around",
    "unit_jacobians",
    "boundary_distance",
    "empirical_c_grad",
    "Snapshot",
    "train_with_snapshots",
    "csv_text",
    "write_files",
    "check_out_dir",
    "raise_failed",
    "figure_png",
]


# ---------------------------------------------------------------------------- geometry
def plane_through(points: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The plane through three points: centroid, orthonormal basis and the points' plane coordinates.

    Parameters
    ----------
    points : array_like of shape (3, n_in)

    Returns
    -------
    origin : ndarray of shape (n_in,)
        The centroid of the three points.
    u, v : ndarray of shape (n_in,)
        Orthonormal vectors spanning the plane (so plane areas and lengths are
        input-space areas and lengths).
    coords : ndarray of shape (3, 2)
        The points in plane coordinates: ``points[i] == origin + coords[i, 0] u + coords[i, 1] v``.

    Raises
    ------
    DomainError
        If the points are (nearly) collinear.

    Examples
    --------
    >>> o, u, v, c = plane_through([[0.0, 0, 0], [3.0, 0, 0], [0.0, 3, 0]])
    >>> o, float(u @ v), bool(np.allclose(o + c[:, :1] * u + c[:, 1:] * v, [[0, 0, 0], [3, 0, 0], [0, 3, 0]]))
    (array([1., 1., 0.]), 0.0, True)
    """
    p = as_float_array(points, "points", ndim=2)
    if p.shape[0] != 3:
        raise ShapeError(f"'points' must have shape (3, n_in); got {p.shape}.")
    origin = p.mean(axis=0)
    q, r = np.linalg.qr(np.stack([p[1] - p[0], p[2] - p[0]], axis=1))
    scale = max(float(np.abs(p - origin).max()), 1e-300)
    if abs(r[1, 1]) <= 1e-10 * scale or abs(r[0, 0]) <= 1e-10 * scale:
        raise DomainError("'points' are collinear: three points span a plane only if they are not on one line.")
    u, v = q[:, 0], q[:, 1]
    coords = (p - origin) @ np.stack([u, v], axis=1)
    return origin, u, v, coords


def square_around(coords: Any, margin: float = 1.25) -> tuple[float, float, float, float]:
    """A square ``(s0, s1, t0, t1)`` centred at 0 holding the plane points ``coords`` with room to spare.

    The half-width is ``margin`` times the largest distance of a point from 0 (the
    centroid when ``coords`` come from :func:`plane_through`): a square around the
    circle through the points, as in Hanin & Rolnick's cross-sections.

    Examples
    --------
    >>> square_around([[1.0, 0.0], [0.0, -2.0]], margin=1.5)
    (-3.0, 3.0, -3.0, 3.0)
    """
    c = as_float_array(coords, "coords", ndim=2)
    if not margin >= 1:
        raise InvalidParameterError(f"'margin' must be >= 1 (the square must hold the points); got {margin!r}.")
    r = float(np.linalg.norm(c, axis=1).max()) * margin
    if r <= 0:
        raise DomainError("'coords' are all at 0: the square would be empty.")
    return -r, r, -r, r


# ---------------------------------------------------------------------------- derivatives
def _forward_jacobians(net: Network, x: np.ndarray, directions: np.ndarray) -> tuple[list, list]:
    """Pre-activations (n, n_l) and their derivatives (n, n_l, k) for every hidden layer."""
    n = x.shape[0]
    h = x
    jac = np.broadcast_to(directions, (n,) + directions.shape)  # (n, n_in, k)
    zs, js = [], []
    for layer in net.layers[:-1]:
        z = h @ layer.weight.T + layer.bias
        jz = np.einsum("oi,nik->nok", layer.weight, jac)
        zs.append(z)
        js.append(jz)
        act = layer.activation
        piece = act.piece(z)
        slope = act.slopes[piece]
        h = slope * z + act.intercepts[piece]
        jac = slope[:, :, None] * jz
    return zs, js


def unit_jacobians(net: Network, x: Any, directions: Any = None) -> list[np.ndarray]:
    """Derivatives of every hidden unit's pre-activation at ``x`` along ``directions``.

    Parameters
    ----------
    net : Network
    x : array_like of shape (n_points, n_in)
    directions : array_like of shape (n_in, k), optional
        Columns are the directions (default: the identity, i.e. full gradients).

    Returns
    -------
    list of ndarray, one per hidden layer, of shape (n_points, n_l, k)
        ``out[l][p, i, j]`` is the derivative of unit ``i`` of layer ``l`` at ``x[p]``
        along ``directions[:, j]`` (the one-sided derivative of the region of ``x``).

    Examples
    --------
    >>> net = Network([(np.array([[2.0, 0.0], [0.0, -1.0]]), np.zeros(2), "relu"),
    ...                (np.array([[1.0, 1.0]]), np.zeros(1), "relu"),
    ...                (np.ones((1, 1)), np.zeros(1), "identity")])
    >>> j = unit_jacobians(net, [[1.0, 1.0]])
    >>> j[0][0].tolist(), j[1][0].tolist()       # unit 2 of layer 1 is off at (1, 1)
    ([[2.0, 0.0], [0.0, -1.0]], [[2.0, 0.0]])
    """
    pts = as_float_array(x, "x", ndim=2)
    if pts.shape[1] != net.n_in:
        raise ShapeError(f"'x' must have shape (n_points, {net.n_in}); got {pts.shape}.")
    d = np.eye(net.n_in) if directions is None else as_float_array(directions, "directions", ndim=2)
    if d.shape[0] != net.n_in:
        raise ShapeError(f"'directions' must have shape ({net.n_in}, k); got {d.shape}.")
    return _forward_jacobians(net, pts, d)[1]


def boundary_distance(net: Network, x: Any) -> np.ndarray:
    """Exact Euclidean distance from each point to the boundary of its activation region.

    Within the region of ``x`` every unit's pre-activation is affine, ``z_i(y) = z_i(x)
    + g_i·(y - x)``, and the region is the intersection of the half-spaces where each
    keeps its side of its breakpoints; the distance to the boundary of an intersection
    of half-spaces containing ``x`` is the smallest distance to one of their planes,
    ``min_i |z_i(x) - β| / ||g_i||`` (Hanin & Rolnick 2019, ICML, Thm 3 bounds its
    mean below by ``C / (C_grad C_bias N)``). Units that are constant on the region
    (``g_i = 0``) never bound it.

    Parameters
    ----------
    net : Network
    x : array_like of shape (n_points, n_in)

    Returns
    -------
    ndarray of shape (n_points,)
        ``inf`` where no unit bounds the region (a single region).

    Examples
    --------
    >>> net = Network([(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([0.0, -2.0]), "relu"),
    ...                (np.ones((1, 2)), np.zeros(1), "identity")])
    >>> boundary_distance(net, [[0.5, 0.0], [3.0, 0.9]])      # lines x = 0 and y = 1
    array([0.5, 0.1])
    """
    pts = as_float_array(x, "x", ndim=2)
    if pts.shape[1] != net.n_in:
        raise ShapeError(f"'x' must have shape (n_points, {net.n_in}); got {pts.shape}.")
    zs, js = _forward_jacobians(net, pts, np.eye(net.n_in))
    best = np.full(pts.shape[0], np.inf)
    for layer, z, j in zip(net.layers[:-1], zs, js, strict=True):
        g = np.linalg.norm(j, axis=2)
        for beta in np.asarray(layer.activation.breakpoints, dtype=np.float64):
            with np.errstate(divide="ignore", invalid="ignore"):
                dist = np.where(g > 0, np.abs(z - beta) / g, np.inf)
            best = np.minimum(best, dist.min(axis=1, initial=np.inf))
    return best


def empirical_c_grad(nets: Sequence[Network], x: Any, directions: Any = None, k: int = 1) -> float:
    """An estimate of Hanin & Rolnick's ``C_grad = sup_z sup_x E[||∇z(x)||^{2k}]^{1/(2k)}``.

    The expectation (over the random weights) is estimated by the mean over the
    networks ``nets`` (independent draws of one architecture), the points ``x`` and the
    units of a layer (which are exchangeable); the sup is the largest such mean over
    the layers. With ``directions`` the gradient is that of the network restricted to
    the span of the directions (e.g. the plane or the line on which regions are counted).

    Parameters
    ----------
    nets : sequence of Network
    x : array_like of shape (n_points, n_in)
    directions : array_like of shape (n_in, k_dirs), optional
        Orthonormal columns; default: the identity.
    k : int
        Moment order (``n_in`` of the restricted network in the theorem).

    Examples
    --------
    One unit ``z = w x`` with ``w ~ N(0, 2)`` (He): ``E[w^2]^{1/2} = sqrt(2)``.

    >>> nets = [Network.random([1, 1, 1], seed=s) for s in range(4000)]
    >>> round(empirical_c_grad(nets, [[0.3]]), 1)
    1.4
    """
    if not nets:
        raise InvalidParameterError("'nets' must hold at least one network; got none.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidParameterError(f"'k' must be an integer >= 1; got {k!r}.")
    per_net = [
        [np.mean(np.sum(j**2, axis=2) ** k) for j in unit_jacobians(net, x, directions)] for net in nets
    ]
    means = np.mean(np.array(per_net, dtype=np.float64), axis=0)  # (n_hidden_layers,)
    return float(np.max(means) ** (1.0 / (2 * k)))


# ---------------------------------------------------------------------------- training
@dataclass(frozen=True)
class Snapshot:
    """The network at the end of one epoch of :func:`train_with_snapshots` (epoch 0: the start).

    Attributes
    ----------
    epoch : int
    network : Network
        A float64 copy of the model's (float32) weights.
    train_accuracy : float
        Arg-max accuracy on the training set.
    loss : float
        Mean cross-entropy over the epoch (at epoch 0: on the whole training set).
    seconds : float
        Training time so far.
    """

    epoch: int
    network: Network
    train_accuracy: float
    loss: float
    seconds: float


def _torch_model(net: Network) -> Any:
    import torch

    mods: list[Any] = []
    for i, layer in enumerate(net.layers):
        lin = torch.nn.Linear(layer.n_in, layer.n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(layer.weight, dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.array(layer.bias, dtype=np.float32)))
        mods.append(lin)
        if i < net.depth - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def _as_network(model: Any, meta: dict[str, Any]) -> Network:
    import torch

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    n = len(linears)
    return Network(
        [(m.weight.detach().double().numpy().copy(), m.bias.detach().double().numpy().copy(),
          "relu" if i < n - 1 else "identity") for i, m in enumerate(linears)],
        metadata=meta,
    )


def train_with_snapshots(
    init: Network,
    x: Any,
    y: Any,
    epochs: Sequence[int],
    *,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    threads: int = 1,
) -> list[Snapshot]:
    """Train a ReLU classifier from the weights of ``init`` with Adam; keep it at the given epochs.

    Cross-entropy on the ``n_out`` logits of ``init`` (labels ``0 .. n_out - 1``),
    Adam with learning rate ``lr`` (Hanin & Rolnick train with Adam at ``1e-3``),
    mini-batches of ``batch_size`` in an order drawn from ``seed``. Runs on the CPU in
    float32 with ``threads`` threads; deterministic for fixed arguments.

    Parameters
    ----------
    init : Network
        ReLU hidden layers and a linear output layer, e.g. :meth:`Network.random`.
    x : array_like of shape (n_samples, n_in)
    y : array_like of int, shape (n_samples,)
    epochs : sequence of int
        Epochs after which to keep a copy (0 = before training), increasing.
    lr, batch_size, seed, threads
        Training settings.

    Returns
    -------
    list of Snapshot, one per entry of ``epochs``

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(64, 2)); y = (x[:, 0] > 0).astype(int)
    >>> snaps = train_with_snapshots(Network.random([2, 8, 2], seed=0), x, y, [0, 30], lr=1e-2, batch_size=16)
    >>> [s.epoch for s in snaps], snaps[-1].train_accuracy > 0.9
    ([0, 30], True)
    """
    import torch

    xs = as_float_array(x, "x", ndim=2)
    ys = np.asarray(y)
    if xs.shape[1] != init.n_in:
        raise ShapeError(f"'x' must have shape (n_samples, {init.n_in}); got {xs.shape}.")
    if ys.shape != (xs.shape[0],) or not np.issubdtype(ys.dtype, np.integer):
        raise ShapeError(f"'y' must hold one integer label per row of 'x'; got shape {ys.shape}, dtype {ys.dtype}.")
    if ys.size and (ys.min() < 0 or ys.max() >= init.n_out):
        raise InvalidParameterError(f"'y' labels must lie in 0 .. {init.n_out - 1} (the logits of 'init').")
    marks = [int(e) for e in epochs]
    if not marks or any(e < 0 for e in marks) or any(b <= a for a, b in zip(marks, marks[1:], strict=False)):
        raise InvalidParameterError(f"'epochs' must be increasing integers >= 0; got {list(epochs)!r}.")
    if not (lr > 0 and batch_size >= 1 and threads >= 1):
        raise InvalidParameterError(
            f"'lr' must be > 0 and 'batch_size', 'threads' >= 1; got {lr!r}, {batch_size!r}, {threads!r}."
        )
    old_threads = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    snaps: list[Snapshot] = []
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = _torch_model(init)
            X = torch.from_numpy(np.array(xs, dtype=np.float32))
            Y = torch.from_numpy(np.array(ys, dtype=np.int64))
            gen = torch.Generator().manual_seed(int(seed))
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            t0 = time.perf_counter()

            def keep(epoch: int, loss: float) -> None:
                with torch.no_grad():
                    acc = float((model(X).argmax(dim=1) == Y).double().mean())
                meta = {"source": "train_with_snapshots", "epoch": epoch, "lr": lr, "seed": int(seed)}
                snaps.append(Snapshot(epoch, _as_network(model, meta), acc, loss, time.perf_counter() - t0))

            if marks[0] == 0:
                with torch.no_grad():
                    keep(0, float(torch.nn.functional.cross_entropy(model(X), Y)))
            for epoch in range(1, marks[-1] + 1):
                perm = torch.randperm(X.shape[0], generator=gen)
                total = 0.0
                for s in range(0, X.shape[0], batch_size):
                    idx = perm[s:s + batch_size]
                    loss = torch.nn.functional.cross_entropy(model(X[idx]), Y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * idx.shape[0]
                if epoch in marks:
                    keep(epoch, total / X.shape[0])
    finally:
        torch.set_num_threads(old_threads)
    return snaps


# ---------------------------------------------------------------------------- outputs
def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text (floats with 6 significant digits, ``None`` as an empty cell).

    Examples
    --------
    >>> print(csv_text([{"a": 1, "b": 0.1234567}, {"a": 2, "b": None}], ["a", "b"]), end="")
    a,b
    1,0.123457
    2,
    """

    def fmt(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.6g}"
        return str(v)

    lines = [",".join(columns)] + [",".join(fmt(r.get(c)) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def check_out_dir(out_dir: Any) -> Path:
    """``out_dir`` as a Path; raises if it exists and is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> check_out_dir(tempfile.gettempdir()).is_dir()
    True
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out_dir' must be a folder; {str(out)!r} is a file.")
    return out


def figure_png(fig: Any, dpi: int) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)), dpi=10)[:4]
    b'\\x89PNG'
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
