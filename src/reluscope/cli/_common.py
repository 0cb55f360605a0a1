"""Helpers shared by the CLI commands: loading a model, the bundled default."""

from __future__ import annotations

from pathlib import Path

import click

from ..network import Network

__all__ = ["load_model", "model_argument"]


def load_model(path: str | None) -> Network:
    """Load ``path``, or the bundled example network when ``path`` is None."""
    from ..io import load

    if path is None:
        from ..data import bundled_network

        return bundled_network()
    return load(Path(path))


def model_argument(required: bool = True):
    """The ``MODEL`` argument of commands that read a network."""
    return click.argument("model", required=required, type=click.Path(dir_okay=False))
