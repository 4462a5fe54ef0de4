"""Entry point of the ``kardashev`` command.

Each verb group lives in its own module with a ``register(app)`` function, so the
groups stay independent. Domain errors are printed as one clear line (no trace)
and exit with status 2.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from kardashev import __version__
from kardashev.errors import KardashevError

__all__ = ["app", "main"]

app = typer.Typer(
    name="kardashev",
    help="Kardashev: crowdsourced hedge-fund engine (scoring, meta model, optimizer, True Contribution).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Verb-group modules; each defines register(app).
_VERB_MODULES = (
    "score",
    "data",
    "tournament",
    "accounts",
    "round_status",
    "validation_data",
    "serve",
    "demo",
    "backfill",
    "tc",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


def _register_verbs() -> None:
    for name in _VERB_MODULES:
        try:
            module = importlib.import_module(f"kardashev.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"kardashev.cli.{name}":
                continue  # verb group not part of this build
            raise
        module.register(app)


_register_verbs()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; domain errors become a one-line message and exit status 2."""
    console = Console(stderr=True)
    try:
        app(args=argv, standalone_mode=True)
    except KardashevError as exc:
        console.print(f"[bold red]error[/] ({exc.code}): {exc.message}", soft_wrap=True, markup=True)
        sys.exit(2)
