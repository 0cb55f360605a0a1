"""``reluscope info`` and ``reluscope convert``."""

from __future__ import annotations

import click

from ._common import load_model, model_argument

__all__ = ["commands"]


@click.command()
@model_argument(required=False)
def info(model: str | None) -> None:
    """Print layers, widths, activations and parameter count of MODEL.

    Without MODEL, describes the bundled example network.
    """
    net = load_model(model)
    click.echo(net.summary())


@click.command()
@click.argument("src", type=click.Path(dir_okay=False, exists=True))
@click.argument("dst", type=click.Path(dir_okay=False))
def convert(src: str, dst: str) -> None:
    """Convert a model between formats (.npz, .onnx, .pt/.pth), chosen by extension."""
    from ..io import save

    net = load_model(src)
    save(net, dst)
    click.echo(f"wrote {dst} ({net.widths})")


commands = [info, convert]
