"""``kardashev validation-data upload FILE``: the operator's validation data for participants' diagnostics.

The same check and storage as ``PUT /v1/admin/validation-data``
(:func:`kardashev.api.diagnostics.store_validation_file`): a table with ``era``, ``id``, ``target`` and
optional ``feature_*`` columns, or Numerai's ``validation.parquet`` as downloaded; it replaces the
previous one in the data directory, where ``kardashev serve`` reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kardashev.cli.tables import output_console
from kardashev.cli.tournament import DEFAULT_DATA_DIR, DataDirOption
from kardashev.errors import InvalidInputError

__all__ = ["register"]

validation_app = typer.Typer(
    help="The operator's validation data (what participants' diagnostics score against).",
    no_args_is_help=True,
)


@validation_app.command("upload")
def upload(
    file: Annotated[
        Path, typer.Argument(help="CSV or parquet: era, id, target, optional feature_* columns.")
    ],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Largest accepted table, in rows.")
    ] = 1_000_000,
) -> None:
    """Check FILE and store it as the validation data of the server using --data-dir."""
    from kardashev.api.diagnostics import store_validation_file
    from kardashev.api.uploads import UploadedFile

    if not file.is_file():
        raise InvalidInputError(f"no such file: {file}")
    data = file.read_bytes()
    file_format = "parquet" if data[:4] == b"PAR1" else "csv"
    console = output_console()
    with console.status(f"checking {file.name}…"):
        stored = store_validation_file(
            data_dir, UploadedFile(data, file_format, file.name), max_rows=max_rows
        )
    console.print(
        f"validation data stored in {data_dir}: {stored.n_rows} rows, {stored.n_eras} eras, "
        f"{stored.n_features} features (sha256 {stored.sha256[:12]})"
    )


def register(app: typer.Typer) -> None:
    """Add the ``validation-data`` verb group to the CLI."""
    app.add_typer(validation_app, name="validation-data")
