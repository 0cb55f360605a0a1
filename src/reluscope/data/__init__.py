"""Data shipped with reluscope: a small trained network for examples and ``analyze``."""

from __future__ import annotations

from importlib import resources

from ..network import Network

__all__ = ["bundled_network", "BUNDLED_MODEL"]

BUNDLED_MODEL = "digits_mlp.npz"


def bundled_network() -> Network:
    """The bundled 64-16-16-10 ReLU MLP trained on scikit-learn's 8x8 digits (x / 16).

    Its input domain is ``[0, 1]^64``; ``metadata["test_accuracy"]`` holds its
    held-out accuracy. Regenerate with ``scripts/make_bundled_model.py``.

    Examples
    --------
    >>> bundled_network().widths
    (64, 16, 16, 10)
    """
    from ..io.npz import load_npz

    with resources.as_file(resources.files(__package__) / BUNDLED_MODEL) as path:
        return load_npz(path)
