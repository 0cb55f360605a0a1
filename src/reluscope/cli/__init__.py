"""The ``reluscope`` command line: a thin layer over the public functions.

Each sub-command lives in its own module (``_info``, ``_regions``, ``_bounds``,
``_build``, ``_analyze``) and exposes a ``commands`` list. Errors of reluscope's
own hierarchy are printed as one readable line with a non-zero exit status; pass
``--debug`` for the traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from .._errors import ReluscopeError

__all__ = ["main", "cli"]

_COMMAND_MODULES = ("_info", "_regions", "_bounds", "_build", "_compress", "_analyze")


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ReluscopeError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted: no partial output was written.", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="reluscope")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """reluscope: ReLU networks as piecewise-linear functions."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _name in _COMMAND_MODULES:
    for _cmd in importlib.import_module(f"{__name__}.{_name}").commands:
        cli.add_command(_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``reluscope`` console script."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="reluscope")
