"""PyTorch models in and out: exact lowering of ``nn.Module``, float64 ``nn.Sequential`` out.

:func:`from_torch` traces a module with ``torch.fx`` (an ``nn.Sequential`` traces
trivially) and lowers its graph exactly into the canonical form (DESIGN §1):

* Linear, and everything affine next to it, is merged into one affine map:
  eval-mode BatchNorm1d/2d, Dropout (always dropped, i.e. its eval-mode behaviour),
  Flatten/Unflatten/``view``/``reshape``, Identity, sums and constant scalings of
  values, Conv1d/Conv2d (any stride, padding, padding mode, dilation, groups) and
  AvgPool/AdaptiveAvgPool 1d/2d: their exact dense matrix is built by pushing the
  identity basis through the operation in float64; a lowered layer with more than
  ``reluscope.io._lower.LARGE_LAYER_ENTRIES`` (10^7) weights raises
  :class:`~reluscope.LargeLayerWarning`;
* ReLU, LeakyReLU, single-parameter PReLU, Hardtanh, ReLU6 (``HardTanh(0, 6)``),
  ``abs`` and scalar ``clamp`` become activations; MaxPool/AdaptiveMaxPool become
  ReLU units (``max(a, b) = b + relu(a - b)``, one extra layer per halving of the window);
* a residual ``h + F(h)`` carries ``h`` through identity units ``relu(h) - relu(-h)``;
* a final Softmax/LogSoftmax is dropped with :class:`~reluscope.StrippedLayerWarning`
  (it changes neither the argmax nor the regions); anything else that is not
  piecewise linear raises :class:`~reluscope.UnsupportedLayerError` naming it.

The network's input is the C-order flattening of one sample of shape ``input_shape``
(what ``x.flatten(1)`` gives); an output that is not flat is flattened the same way.

:func:`save_state_dict` and :func:`load_state_dict` use plain state dicts
(``torch.load(weights_only=True)``: no Python object is ever unpickled).

PyTorch is imported only inside these functions (``pip install reluscope[torch]``).
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._atomic import atomic_path
from .._errors import (
    InvalidParameterError,
    ModelFileError,
    NonFiniteError,
    ReluscopeError,
    UnsupportedLayerError,
)
from ..activations import Abs as _AbsActivation
from ..activations import HardTanh, Identity, LeakyReLU, ReLU, activation_from_spec
from ..network import Network
from ._optional import require
from ._torch_graph import abs_module_class, lower_traced

__all__ = ["from_torch", "to_torch", "save_state_dict", "load_state_dict", "STATE_DICT_VERSION"]

#: Version of the ``"reluscope"`` entry that :func:`save_state_dict` adds to ``_metadata``.
STATE_DICT_VERSION = 1


def _torch(purpose: str) -> Any:
    return require("torch", "torch", purpose)


def __getattr__(name: str) -> Any:
    # ``reluscope.io.torch.Abs``: the |x| module, created on first use so that importing
    # this module does not import torch.
    if name == "Abs":
        return abs_module_class(_torch("the Abs module"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def from_torch(module: Any, input_shape: Any = None) -> Network:
    """Lower a PyTorch module exactly into a :class:`~reluscope.Network`.

    Parameters
    ----------
    module : torch.nn.Module
        An ``nn.Sequential`` (nested ones too) or any ``torch.fx``-traceable module
        with one tensor input and one tensor output, built from the operations listed
        in :mod:`reluscope.io.torch`. BatchNorm layers must be in eval mode.
    input_shape : tuple of int, optional
        Shape of one input sample without the batch axis, e.g. ``(1, 28, 28)``.
        Required for convolution and pooling; for MLPs it is read from the first
        Linear layer.

    Returns
    -------
    Network
        Takes the flattened sample (``prod(input_shape)`` entries); the weights are the
        module's, converted to float64 (exactly). ``metadata`` records the source.

    Raises
    ------
    UnsupportedLayerError
        An operation that is not piecewise linear or not supported (named with its
        place in the module), or a BatchNorm layer in training mode.
    InvalidParameterError
        ``input_shape`` missing where a convolution or pooling needs it, or malformed.
    NonFiniteError
        NaN or infinite parameters (the layer is named).

    Examples
    --------
    >>> import torch, numpy as np
    >>> from reluscope import Network
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    >>> net = Network.from_torch(model)
    >>> net.widths
    (3, 5, 2)
    >>> x = np.random.default_rng(0).normal(size=(4, 3))
    >>> y = model.double()(torch.tensor(x)).detach().numpy()
    >>> bool(np.allclose(net(x), y, rtol=0, atol=1e-12))
    True
    """
    torch = _torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise InvalidParameterError(f"'module' must be a torch.nn.Module; got {type(module).__name__}.")
    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as exc:  # tracing runs user code: any failure means "cannot lower"
        raise UnsupportedLayerError(
            f"Could not trace {type(module).__name__} with torch.fx ({type(exc).__name__}: {exc}). "
            "from_torch supports nn.Sequential and fx-traceable modules (no data-dependent "
            "control flow)."
        ) from exc
    return lower_traced(torch, gm, input_shape, {"source": "torch", "module": type(module).__name__})


def to_torch(net: Network) -> Any:
    """An ``nn.Sequential`` of float64 ``Linear`` layers and activations equal to ``net``.

    ReLU → ``nn.ReLU``, LeakyReLU → ``nn.LeakyReLU``, HardTanh → ``nn.Hardtanh``,
    Abs → :class:`reluscope.io.torch.Abs`, Identity → no module. The module is in
    eval mode.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from reluscope import Network
    >>> net = Network.random([2, 4, 1], seed=0, activation="leaky_relu")
    >>> model = to_torch(net)
    >>> model
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): LeakyReLU(negative_slope=0.01)
      (2): Linear(in_features=4, out_features=1, bias=True)
    )
    >>> x = np.random.default_rng(1).normal(size=(3, 2))
    >>> bool(np.allclose(model(torch.tensor(x)).detach().numpy(), net(x), rtol=0, atol=1e-14))
    True
    """
    torch = _torch("to_torch")
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a Network; got {type(net).__name__}.")
    nn = torch.nn
    mods: list[Any] = []
    for layer in net.layers:
        lin = nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(layer.weight, dtype=torch.float64))
            lin.bias.copy_(torch.tensor(layer.bias, dtype=torch.float64))
        mods.append(lin)
        act = layer.activation
        if isinstance(act, ReLU):
            mods.append(nn.ReLU())
        elif isinstance(act, LeakyReLU):
            mods.append(nn.LeakyReLU(act.alpha))
        elif isinstance(act, HardTanh):
            mods.append(nn.Hardtanh(act.lo, act.hi))
        elif isinstance(act, _AbsActivation):
            mods.append(abs_module_class(torch)())
        elif not isinstance(act, Identity):  # pragma: no cover - every canonical activation is handled
            raise UnsupportedLayerError(f"no torch module for activation {act!r}.")
    return nn.Sequential(*mods).eval()


def save_state_dict(net: Network, path: str | os.PathLike) -> None:
    """Write the state dict of :func:`to_torch(net) <to_torch>` to ``path``, atomically.

    The file is a plain state dict (``to_torch(net).load_state_dict(torch.load(path))``
    works); the activations and ``net.metadata`` are kept in its ``_metadata`` under
    the key ``"reluscope"``, so that :func:`load_state_dict` restores them exactly.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.pt"
    >>> net = Network.random([3, 4, 2], seed=0, activation="hardtanh")
    >>> save_state_dict(net, p)
    >>> load_state_dict(p) == net
    True
    """
    torch = _torch("save_state_dict")
    sd = to_torch(net).state_dict()
    sd._metadata["reluscope"] = {
        "version": STATE_DICT_VERSION,
        "activations": [layer.activation.spec() for layer in net.layers],
        "metadata": json.dumps(net.metadata, default=str),
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(sd, tmp)


def load_state_dict(
    path: str | os.PathLike, architecture: Any = None, input_shape: Any = None
) -> Network:
    """Read a PyTorch state dict (``.pt``/``.pth``) with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : path-like
    architecture : None, torch.nn.Module or sequence of activation specs
        ``None``: the file must be a plain MLP state dict (keys ``{i}.weight`` and
        ``{i}.bias`` of Linear layers of an ``nn.Sequential``, under any common
        prefix). Files written by :func:`save_state_dict` restore their activations;
        otherwise the layers are joined by ReLU where the Sequential had a
        parameter-free module between them, by nothing where two Linear layers are
        adjacent, and the last layer is linear. A sequence: one activation per Linear
        layer (or one fewer: the last layer is then linear). A module: a copy is
        loaded with the weights (``load_state_dict(strict=True)``), put in eval mode
        and lowered with :func:`from_torch` (pass ``input_shape`` for convolutions).
    input_shape : tuple of int, optional
        Passed to :func:`from_torch` when ``architecture`` is a module.

    Raises
    ------
    ModelFileError
        Missing, truncated or corrupt files, files that hold pickled Python objects
        (a whole ``nn.Module`` saved with ``torch.save(model)``: ``weights_only=True``
        refuses them, and reluscope never unpickles user data), and state dicts that do
        not fit the architecture.

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mlp.pt"
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    >>> torch.save(model.state_dict(), p)
    >>> load_state_dict(p).summary().splitlines()[1:]
    ['  layer 0: affine 3 -> 8, ReLU()', '  layer 1: affine 8 -> 1, Identity()']
    """
    torch = _torch("reading .pt files")
    sd = _state_dict_of(_torch_load(torch, path), path)
    if isinstance(architecture, torch.nn.Module):
        model = copy.deepcopy(architecture)
        try:
            model.load_state_dict(sd, strict=True)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise ModelFileError(
                f"{os.fspath(path)!r} does not fit the given architecture "
                f"{type(architecture).__name__}: {exc}"
            ) from exc
        return from_torch(model.eval(), input_shape=input_shape)
    if architecture is not None and (isinstance(architecture, str) or not isinstance(architecture, Sequence)):
        raise InvalidParameterError(
            "'architecture' must be None, a torch.nn.Module or a list of activation names; "
            f"got {type(architecture).__name__}."
        )
    weights, gaps = _plain_mlp(sd, path)
    info = getattr(sd, "_metadata", None) or {}
    info = info.get("reluscope") if isinstance(info, dict) else None
    meta: dict[str, Any] = {"source": "torch state dict", "file": os.path.basename(os.fspath(path))}
    if architecture is not None:
        acts = _activations(list(architecture), len(weights), "'architecture'")
    elif isinstance(info, dict) and "activations" in info:
        acts = _activations(list(info["activations"]), len(weights), f"{os.fspath(path)!r}")
        try:
            meta = json.loads(info.get("metadata", "{}"))
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{os.fspath(path)!r} has unreadable reluscope metadata: {exc}") from exc
    else:
        acts = [ReLU() if g > 1 else Identity() for g in gaps] + [Identity()]
    try:
        return Network([(w, b, a) for (w, b), a in zip(weights, acts, strict=True)], metadata=meta)
    except ReluscopeError as exc:
        raise ModelFileError(f"{os.fspath(path)!r} holds an invalid network: {exc}") from exc


# ---------------------------------------------------------------------- helpers
def _torch_load(torch: Any, path: str | os.PathLike) -> Any:
    where = os.fspath(path)
    try:
        return torch.load(where, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ModelFileError(f"No such model file: {where!r}.") from exc
    except pickle.UnpicklingError as exc:
        reason = next((ln.strip() for ln in str(exc).splitlines() if "Unsupported" in ln), "")
        raise ModelFileError(
            f"{where!r} could not be read with torch.load(weights_only=True)"
            f"{': ' + reason if reason else ''}. It is not a state dict of tensors: it is corrupt or "
            "holds pickled Python objects, e.g. a whole model saved with torch.save(model). "
            "reluscope never unpickles arbitrary objects (that can run code); save "
            "model.state_dict() instead and pass architecture=..."
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError) as exc:
        raise ModelFileError(
            f"Could not read {where!r} as a PyTorch file: {exc}. The file may be truncated or corrupt."
        ) from exc


def _state_dict_of(obj: Any, path: str | os.PathLike) -> dict:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                return obj[key]
        if obj and all(hasattr(v, "shape") for v in obj.values()):
            return obj
    raise ModelFileError(
        f"{os.fspath(path)!r} holds a {type(obj).__name__}, not a state dict of tensors "
        "(nor a checkpoint with a 'state_dict' or 'model_state_dict' entry)."
    )


_KEY = re.compile(r"^(.*?)(\d+)\.(weight|bias)$")


def _plain_mlp(sd: dict, path: str | os.PathLike) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[int]]:
    """Weights of a Sequential of Linear layers, and the index gaps between them."""
    where = os.fspath(path)
    found: dict[int, dict[str, np.ndarray]] = {}
    prefixes = set()
    for key, t in sd.items():
        m = _KEY.match(str(key))
        if m is None:
            raise ModelFileError(
                f"{where!r} is not a plain MLP state dict (key {key!r} is not '<i>.weight' or "
                "'<i>.bias' of a Linear layer); pass architecture=<module> to load it into."
            )
        prefixes.add(m.group(1))
        arr = t.detach().cpu().double().numpy()
        if not np.all(np.isfinite(arr)):
            raise NonFiniteError(f"{where!r}: tensor {key!r} contains NaN or infinite values.")
        found.setdefault(int(m.group(2)), {})[m.group(3)] = arr
    if len(prefixes) > 1:
        raise ModelFileError(
            f"{where!r} mixes key prefixes {sorted(prefixes)}; pass architecture=<module>."
        )
    idx = sorted(found)
    weights = []
    for i in idx:
        if "weight" not in found[i] or found[i]["weight"].ndim != 2:
            raise ModelFileError(
                f"{where!r}: layer {i} has no 2-D 'weight' (got keys {sorted(found[i])}); "
                "it is not a Linear layer. Pass architecture=<module>."
            )
        w = found[i]["weight"]
        weights.append((w, found[i].get("bias", np.zeros(w.shape[0]))))
    return weights, [b - a for a, b in zip(idx, idx[1:], strict=False)]


def _activations(specs: list, n: int, what: str) -> list:
    if len(specs) == n - 1:
        specs = specs + ["identity"]
    if len(specs) != n:
        raise InvalidParameterError(
            f"{what} must give one activation per Linear layer ({n}) or one fewer; got {len(specs)}."
        )
    try:
        return [activation_from_spec(s) for s in specs]
    except ReluscopeError as exc:
        raise InvalidParameterError(f"{what}: {exc}") from exc
