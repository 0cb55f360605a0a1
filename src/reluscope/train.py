"""Train small ReLU classifiers with l1 regularisation (needs the ``torch`` extra).

l1 on the weights is what makes units stable, and stable units are what lossless
compression removes (Serra, Kumar, Ramalingam 2020, §5; research note
``milp_bounds.md`` §6: "l1 is what produces stability"). :func:`mlp` follows the
recipe of the authors' released code (``yuxwind/ExactCompression``,
``train_fcnn.py``): SGD with momentum 0.9, learning rate 0.01 divided by 10 at
50/120 and 100/120 of the epochs, batch size 128, loss = cross-entropy +
``l1 * sum |W|`` over the weights of every linear layer (biases excluded), inputs in
``[0, 1]`` without normalisation. Training runs on the CPU and is deterministic for
a given seed (and number of threads).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import InvalidParameterError, ShapeError
from ._validation import check_positive_int
from .datasets import Dataset
from .network import Network

__all__ = ["mlp", "TrainResult", "accuracy"]


@dataclass(frozen=True)
class TrainResult:
    """A trained network and how it was obtained.

    Attributes
    ----------
    network : Network
        The trained classifier (logits; float64 copy of the float32 weights).
    train_accuracy, test_accuracy : float
        Accuracy of :attr:`network` on the training and test sets.
    seconds : float
        Wall-clock training time (evaluation excluded).
    widths : tuple of int
        Hidden widths.
    l1, lr : float
    epochs, batch_size, seed : int
    losses : tuple of float
        Mean training loss (cross-entropy + l1 term) per epoch.
    """

    network: Network
    train_accuracy: float
    test_accuracy: float
    seconds: float
    widths: tuple[int, ...]
    l1: float
    lr: float
    epochs: int
    batch_size: int
    seed: int
    losses: tuple[float, ...]


def accuracy(net: Network, x: np.ndarray, y: np.ndarray, chunk: int = 8192) -> float:
    """Fraction of points whose arg-max output equals the label.

    Examples
    --------
    >>> net = Network.affine([[1.0], [-1.0]])
    >>> accuracy(net, np.array([[1.0], [-2.0]]), np.array([0, 0]))
    0.5
    """
    if x.shape[0] == 0:
        return float("nan")
    hits = 0
    for s in range(0, x.shape[0], chunk):
        hits += int(np.sum(net(x[s:s + chunk]).argmax(axis=1) == y[s:s + chunk]))
    return hits / x.shape[0]


def _split(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(data, Dataset):
        return data.x_train, data.y_train, data.x_test, data.y_test
    try:
        xtr, ytr, xte, yte = data
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "'data' must be a reluscope.datasets.Dataset or a tuple (x_train, y_train, x_test, y_test); "
            f"got {type(data).__name__}."
        ) from exc
    xtr, xte = np.asarray(xtr, dtype=np.float64), np.asarray(xte, dtype=np.float64)
    ytr, yte = np.asarray(ytr), np.asarray(yte)
    if xtr.ndim != 2 or xte.ndim != 2 or xtr.shape[1] != xte.shape[1]:
        raise ShapeError(f"'data' must hold 2-D x_train/x_test with equal widths; got {xtr.shape}, {xte.shape}.")
    if ytr.shape != (xtr.shape[0],) or yte.shape != (xte.shape[0],):
        raise ShapeError("'data' labels must be 1-D with one label per row of x.")
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64)


def _to_network(model: Any) -> Network:
    """The torch MLP as a Network: through Network.from_torch when available, else from the Linear weights."""
    try:
        return Network.from_torch(model)
    except ImportError:
        import torch

        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        n = len(linears)
        return Network([
            (m.weight.detach().double().numpy().copy(), m.bias.detach().double().numpy().copy(),
             "relu" if i < n - 1 else "identity")
            for i, m in enumerate(linears)
        ])


def mlp(
    data: Any,
    widths: Sequence[int],
    *,
    l1: float = 0.0,
    epochs: int = 20,
    seed: int = 0,
    lr: float = 0.01,
    batch_size: int = 128,
    momentum: float = 0.9,
    lr_decay_epochs: Sequence[int] | None = None,
    threads: int = 1,
) -> TrainResult:
    """Train a ReLU classifier ``n_in -> widths... -> n_classes`` with l1-regularised SGD.

    Parameters
    ----------
    data : Dataset or (x_train, y_train, x_test, y_test)
    widths : sequence of int
        Hidden layer widths, e.g. ``(25, 25)``.
    l1 : float, default 0
        Weight of ``sum |W|`` (all linear layers, biases excluded) in the loss.
    epochs : int, default 20
        Serra et al. train for 120.
    seed : int
        Seeds the initialisation and the mini-batch order.
    lr, batch_size, momentum
        SGD settings (defaults: the authors' 0.01, 128, 0.9).
    lr_decay_epochs : sequence of int, optional
        Epochs after which the learning rate is divided by 10; default
        ``round(epochs * 50 / 120)`` and ``round(epochs * 100 / 120)`` (the authors' step of 50 out of 120).
    threads : int, default 1
        Torch CPU threads while training (results are reproducible for a fixed value).

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> from reluscope.datasets import load_digits
    >>> res = mlp(load_digits(), (16,), l1=1e-3, epochs=5, lr=0.1, seed=0)
    >>> res.network.widths, res.test_accuracy > 0.8
    ((64, 16, 10), True)
    >>> res2 = mlp(load_digits(), (16,), l1=1e-3, epochs=5, lr=0.1, seed=0)
    >>> res2.network == res.network          # deterministic from the seed
    True
    """
    import torch

    xtr, ytr, xte, yte = _split(data)
    widths = tuple(check_positive_int(w, "widths entry") for w in widths)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    threads = check_positive_int(threads, "threads")
    if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        raise InvalidParameterError(f"'seed' must be an int; got {seed!r}.")
    for name, v in (("l1", l1), ("lr", lr), ("momentum", momentum)):
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
            raise InvalidParameterError(f"'{name}' must be a finite number >= 0; got {v!r}.")
    if lr_decay_epochs is None:
        lr_decay_epochs = sorted({round(epochs * 50 / 120), round(epochs * 100 / 120)} - {0})
    n_classes = int(max(ytr.max(initial=0), yte.max(initial=0)) + 1)
    sizes = (xtr.shape[1],) + widths + (n_classes,)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            mods: list[Any] = []
            for i in range(len(sizes) - 1):
                mods.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    mods.append(torch.nn.ReLU())
            model = torch.nn.Sequential(*mods)
            gen = torch.Generator().manual_seed(int(seed))
            X = torch.as_tensor(xtr, dtype=torch.float32)
            Y = torch.as_tensor(ytr, dtype=torch.int64)
            weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
            opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(lr_decay_epochs), gamma=0.1)
            losses = []
            t0 = time.perf_counter()
            for _ in range(epochs):
                perm = torch.randperm(X.shape[0], generator=gen)
                total = torch.zeros((), dtype=torch.float64)
                for s in range(0, X.shape[0], batch_size):
                    idx = perm[s:s + batch_size]
                    loss = torch.nn.functional.cross_entropy(model(X[idx]), Y[idx])
                    opt.zero_grad()
                    loss.backward()
                    with torch.no_grad():
                        if l1:  # subgradient of l1 * sum|W| (sign(0) = 0, as autograd's abs)
                            for w in weights:
                                w.grad.add_(torch.sign(w), alpha=l1)
                            loss = loss + l1 * sum(w.abs().sum() for w in weights)
                        total += loss.detach() * idx.shape[0]
                    opt.step()
                sched.step()
                losses.append(float(total) / X.shape[0])
            seconds = time.perf_counter() - t0
    finally:
        torch.set_num_threads(old_threads)
    net = _to_network(model.eval())
    net = net.with_layers(net.layers, source="reluscope.train.mlp", l1=float(l1), epochs=epochs,
                          seed=int(seed), widths=list(widths))
    return TrainResult(
        network=net,
        train_accuracy=accuracy(net, xtr, ytr),
        test_accuracy=accuracy(net, xte, yte),
        seconds=seconds,
        widths=widths,
        l1=float(l1),
        lr=float(lr),
        epochs=epochs,
        batch_size=batch_size,
        seed=int(seed),
        losses=tuple(losses),
    )
