"""Configuration of the HTTP API service: one frozen dataclass, built from arguments or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kardashev.errors import ConfigError
from kardashev.tournament.release import ReleaseConfig

__all__ = ["Settings"]


def _int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Settings of one API service instance.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the tournament database (SQLite file or PostgreSQL); None: the embedded SQLite
        file ``data_dir/kardashev.db``.
    data_dir
        Directory of the content-addressed parquet files (predictions, meta models).
    max_upload_bytes
        Largest accepted request body (uploads and JSON alike); a larger one is refused with 413 while
        it streams in.
    max_upload_rows
        Most data rows an uploaded file may have (a small compressed parquet can hold many rows).
    max_json_bytes
        Largest JSON request body outside the operator's ``/v1/admin`` endpoints (a participant's JSON
        is a name or an amount); larger ones get 413 before they are parsed.
    key_pepper
        Server-side secret mixed into every API-key hash (HMAC-SHA256). Keys made under one pepper
        only verify under the same pepper. An empty pepper is allowed (secrets are 256-bit random).
    title
        Title shown in the OpenAPI documentation.
    meta_model_lag_rounds, meta_model_min_models, meta_model_min_accounts
        Release rule of the public naive meta model (:class:`kardashev.tournament.release.ReleaseConfig`):
        only rounds at least this many rounds old, and only when at least this many models (≥ 2) and,
        if set, distinct accounts contributed.
    create_schema
        Apply the store's migrations at start-up (creating the tables of a new database).
    rate_limit_per_key, rate_limit_per_address
        Request rate limits per API key (its public id) and per client address, in the notation of
        the ``limits`` library (``"600/minute"``, ``"20/second; 600/minute"``); ``""`` turns one off.
        A request over a limit gets 429 with ``Retry-After``.
    rate_limit_storage
        Where the limiter counts (a ``limits`` storage URI): ``memory://`` counts per worker process;
        ``redis://host:6379`` shares the counts between workers and servers.
    """

    database_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path("kardashev-data"))
    max_upload_bytes: int = 50 * 1024 * 1024
    max_upload_rows: int = 1_000_000
    max_json_bytes: int = 64 * 1024
    key_pepper: str = ""
    title: str = "Kardashev tournament API"
    meta_model_lag_rounds: int = ReleaseConfig.lag_rounds  # the release rule's defaults (its docstring)
    meta_model_min_models: int = ReleaseConfig.min_contributors
    meta_model_min_accounts: int | None = None
    create_schema: bool = True
    rate_limit_per_key: str = "50/second; 1200/minute"
    rate_limit_per_address: str = "100/second; 6000/minute"
    rate_limit_storage: str = "memory://"

    def __post_init__(self) -> None:
        if self.database_url is not None and (
            not isinstance(self.database_url, str) or "://" not in self.database_url
        ):
            raise ConfigError(f"database_url must be a SQLAlchemy URL, got {self.database_url!r}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.max_upload_bytes <= 0:
            raise ConfigError(f"max_upload_bytes must be positive, got {self.max_upload_bytes}")
        if self.max_json_bytes <= 0:
            raise ConfigError(f"max_json_bytes must be positive, got {self.max_json_bytes}")
        if self.max_upload_rows <= 0:
            raise ConfigError(f"max_upload_rows must be positive, got {self.max_upload_rows}")
        if self.meta_model_lag_rounds < 0:
            raise ConfigError(f"meta_model_lag_rounds must be >= 0, got {self.meta_model_lag_rounds}")
        if self.meta_model_min_models < 2:
            raise ConfigError(f"meta_model_min_models must be >= 2, got {self.meta_model_min_models}")
        for name in ("rate_limit_per_key", "rate_limit_per_address"):
            _check_rate_limit(name, getattr(self, name))
        if self.meta_model_min_accounts is not None and self.meta_model_min_accounts < 2:
            raise ConfigError(
                f"meta_model_min_accounts must be >= 2 or None, got {self.meta_model_min_accounts}"
            )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``KARDASHEV_*`` environment variables; keyword ``overrides`` win when not None."""
        values: dict[str, object] = {
            "database_url": os.environ.get("KARDASHEV_DATABASE_URL") or None,
            "data_dir": Path(os.environ.get("KARDASHEV_DATA_DIR") or "kardashev-data"),
            "max_upload_bytes": _int_from_env("KARDASHEV_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            "max_json_bytes": _int_from_env("KARDASHEV_MAX_JSON_BYTES", cls.max_json_bytes),
            "key_pepper": os.environ.get("KARDASHEV_KEY_PEPPER", ""),
            "meta_model_lag_rounds": _int_from_env("KARDASHEV_META_MODEL_LAG", cls.meta_model_lag_rounds),
            "meta_model_min_models": _int_from_env(
                "KARDASHEV_META_MODEL_MIN_MODELS", cls.meta_model_min_models
            ),
            "rate_limit_per_key": os.environ.get("KARDASHEV_RATE_LIMIT_PER_KEY", cls.rate_limit_per_key),
            "rate_limit_per_address": os.environ.get(
                "KARDASHEV_RATE_LIMIT_PER_ADDRESS", cls.rate_limit_per_address
            ),
            "rate_limit_storage": os.environ.get("KARDASHEV_RATE_LIMIT_STORAGE", cls.rate_limit_storage),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]

    def __repr__(self) -> str:  # never print the pepper
        return (
            f"Settings(database_url={_redact_url(self.database_url or '')!r}, "
            f"data_dir={str(self.data_dir)!r}, "
            f"max_upload_bytes={self.max_upload_bytes}, key_pepper={'***' if self.key_pepper else ''!r})"
        )


def _check_rate_limit(name: str, value: str) -> None:
    from limits import parse_many

    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string such as '600/minute', got {value!r}")
    if value.strip():
        try:
            parse_many(value)
        except ValueError as exc:
            raise ConfigError(f"{name} is not a rate limit such as '600/minute': {value!r} ({exc})") from None


def _redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, at, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***{at}{host}" if ":" in credentials else url
