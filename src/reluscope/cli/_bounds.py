"""``reluscope bounds``: every published bound on the number of linear regions."""

from __future__ import annotations

import json

import click

from .._errors import InvalidParameterError

__all__ = ["commands"]


def _parse_dims(dims: tuple[str, ...]) -> list[int]:
    out = []
    for i, tok in enumerate(dims):
        what = "N0" if i == 0 else f"width W{i}"
        try:
            value = int(tok)
        except ValueError:
            raise InvalidParameterError(f"{what} must be an integer >= 1; got {tok!r}.") from None
        if value < 1:
            raise InvalidParameterError(f"{what} must be an integer >= 1; got {value}.")
        out.append(value)
    return out


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dims", nargs=-1, type=click.UNPROCESSED, metavar="N0 [W1 W2 ...]")
@click.option("--model", type=click.Path(dir_okay=False), default=None,
              help="A ReLU network: takes N0 and widths from it and adds the rank-refined bound.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--volume", type=float, default=1.0, show_default=True,
              help="Volume for the Hanin-Rolnick expectation.")
@click.option("--sigma-b", type=float, default=1.0, show_default=True,
              help="Std of N(0, sigma_b^2) biases, for Hanin-Rolnick's C_bias.")
@click.option("--c-grad", type=float, default=1.0, show_default=True,
              help="Hanin-Rolnick's C_grad.")
def bounds(dims: tuple[str, ...], model: str | None, as_json: bool, volume: float,
           sigma_b: float, c_grad: float) -> None:
    """Bounds on the number of linear regions of a ReLU network with input dimension N0
    and hidden widths W1 W2 ... (or of --model).

    Upper bounds hold for every network of the architecture; lower bounds say some
    network reaches them; Hanin-Rolnick is an expectation at random initialisation.

    Example: reluscope bounds 784 11 11
    """
    from .. import bounds as rb

    values = _parse_dims(dims)
    net = None
    if model is not None:
        from ._common import load_model

        net = load_model(model)
    elif not values:
        raise InvalidParameterError(
            "give N0 and the hidden widths (e.g. 'reluscope bounds 2 6 6 6'), or --model."
        )
    n0 = values[0] if values else None
    widths = values[1:] if values else None
    result = rb.table(n0, widths, net, volume=volume, c_bias=rb.c_bias_normal(sigma_b), c_grad=c_grad)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(result.to_markdown())


commands = [bounds]
