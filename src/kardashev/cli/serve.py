"""``kardashev serve`` (the HTTP API under uvicorn) and ``kardashev api-key`` (operator key management)."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]

api_key_app = typer.Typer(help="Create, list and revoke API keys (operator).", no_args_is_help=True)


def _settings(db: str | None, data_dir: Path | None, **extra: object):  # -> Settings
    from kardashev.api.settings import Settings

    return Settings.from_env(database_url=db, data_dir=data_dir, **extra)


def _existing(settings):  # -> Settings
    """``settings`` when their database exists; else NotFoundError, creating nothing (read-only verbs)."""
    from kardashev.errors import NotFoundError
    from kardashev.store import database_exists, default_database_url

    url = settings.database_url or default_database_url(settings.data_dir)
    if not database_exists(url):
        where = (
            "the --db database"
            if settings.database_url
            else f"{settings.data_dir}/kardashev.db (after the demo: --data-dir kardashev-demo)"
        )
        raise NotFoundError(f"no Kardashev database at {where}", code="no_database")
    return settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: $KARDASHEV_DATABASE_URL or SQLite in the data dir)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data directory (default: $KARDASHEV_DATA_DIR or ./kardashev-data)."
    ),
    max_upload_bytes: int | None = typer.Option(None, min=1, help="Largest accepted upload, in bytes."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes."),
    log_level: str = typer.Option("info", help="Log level (debug, info, warning, error)."),
    dev: bool = typer.Option(
        False, "--dev", help="Development mode: allow an empty key pepper (never on a real server)."
    ),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs).

    Refuses to start without a key pepper ($KARDASHEV_KEY_PEPPER) unless --dev is given.
    """
    import uvicorn

    from kardashev.api.app import create_app
    from kardashev.api.logs import configure_logging

    settings = _settings(db, data_dir, max_upload_bytes=max_upload_bytes)
    if not settings.key_pepper:
        if not dev:
            typer.echo(
                "refusing to serve without a key pepper: set KARDASHEV_KEY_PEPPER to a long random secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) and keep it with the "
                "database; API keys only verify under the pepper they were made with. "
                "For a local trial pass --dev.",
                err=True,
            )
            raise typer.Exit(2)
        typer.echo("warning: --dev: serving with an EMPTY key pepper (key hashes are unpeppered)", err=True)
    configure_logging(log_level.upper())
    if workers == 1:
        app = create_app(settings)
        uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), access_log=False)
        return
    # Several workers: each process builds its own app from the same settings (via the environment).
    import os

    if settings.database_url:
        os.environ["KARDASHEV_DATABASE_URL"] = settings.database_url
    os.environ["KARDASHEV_DATA_DIR"] = str(settings.data_dir)
    os.environ["KARDASHEV_MAX_UPLOAD_BYTES"] = str(settings.max_upload_bytes)
    os.environ["KARDASHEV_LOG_LEVEL"] = log_level.upper()
    create_app(settings).state.context.close()  # migrate once before the workers start
    uvicorn.run(
        "kardashev.api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
        access_log=False,
    )


@api_key_app.command("create")
def create_key(
    account: str = typer.Argument(..., help="Account name or id."),
    scopes: str = typer.Option(
        "read,upload,stake", help="Comma-separated scopes: read, upload, stake, admin."
    ),
    create_account: bool = typer.Option(
        False, "--create-account", help="Create the account if it is missing."
    ),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from kardashev.api.auth import issue_api_key
    from kardashev.api.context import ApiContext, utc_now
    from kardashev.errors import NotFoundError

    context = ApiContext.open(_settings(db, data_dir))
    try:
        service = context.service
        reference: int | str = int(account) if account.isascii() and account.isdigit() else account
        try:
            found = service.get_account(reference)
        except NotFoundError:
            if not create_account:
                raise
            found = service.create_account(account, now=utc_now())
        key, _ = issue_api_key(service, found.id, scopes, pepper=context.settings.key_pepper, now=utc_now())
    finally:
        context.close()
    typer.echo(f"account:    {found.name} (id {found.id})")
    typer.echo(f"scopes:     {','.join(key.scopes)}")
    typer.echo(f"public id:  {key.public_id}")
    typer.echo(f"secret key: {key.secret}")
    typer.echo("The secret is shown only now. Send it as 'Authorization: Token PUBLIC_ID$SECRET'.")


@api_key_app.command("list")
def list_keys(
    account: str = typer.Argument(..., help="Account name or id."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """List an account's API keys (public ids and scopes)."""
    from kardashev.api.context import ApiContext

    context = ApiContext.open(_existing(_settings(db, data_dir)))
    try:
        reference: int | str = int(account) if account.isascii() and account.isdigit() else account
        keys = context.service.list_api_keys(reference)
    finally:
        context.close()
    for key in keys:
        state = "revoked" if not key.active else "active"
        typer.echo(
            f"{key.key_id}  {','.join(sorted(key.scopes))}  {state}  created {key.created_at:%Y-%m-%d %H:%M}"
        )


@api_key_app.command("revoke")
def revoke_key(
    public_id: str = typer.Argument(..., help="Public id of the key."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """Revoke an API key."""
    from kardashev.api.context import ApiContext, utc_now

    context = ApiContext.open(_existing(_settings(db, data_dir)))
    try:
        context.service.revoke_api_key(public_id, now=utc_now())
    finally:
        context.close()
    typer.echo(f"revoked {public_id}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``api-key`` to the CLI."""
    app.command("serve")(serve)
    app.add_typer(api_key_app, name="api-key")
