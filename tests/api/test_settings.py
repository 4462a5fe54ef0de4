from decimal import Decimal
from pathlib import Path

import pytest

from kardashev.api import Settings
from kardashev.api.convert import finite_or_none, tokens, units
from kardashev.errors import ConfigError, InvalidInputError


def test_from_env_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("KARDASHEV_DATABASE_URL", "postgresql+psycopg://user:hunter2@db/k")
    monkeypatch.setenv("KARDASHEV_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KARDASHEV_MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("KARDASHEV_KEY_PEPPER", "pepper-value")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+psycopg://user:hunter2@db/k"
    assert settings.data_dir == Path(tmp_path) and settings.max_upload_bytes == 1234
    assert settings.key_pepper == "pepper-value"
    text = repr(settings)
    assert "hunter2" not in text and "pepper-value" not in text and "user:***@db" in text
    overridden = Settings.from_env(max_upload_bytes=99, database_url=None)
    assert overridden.max_upload_bytes == 99 and overridden.database_url == settings.database_url
    monkeypatch.setenv("KARDASHEV_MAX_UPLOAD_BYTES", "lots")
    with pytest.raises(ConfigError, match="KARDASHEV_MAX_UPLOAD_BYTES"):
        Settings.from_env()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"database_url": "not a url"},
        {"max_upload_bytes": 0},
        {"max_upload_rows": -1},
        {"meta_model_lag_rounds": -1},
        {"meta_model_min_models": 1},
        {"meta_model_min_accounts": 1},
    ],
)
def test_invalid_settings(kwargs):
    with pytest.raises(ConfigError):
        Settings(**kwargs)


def test_settings_are_frozen():
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.max_upload_bytes = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("units_amount", "text"),
    [
        (0, "0"),
        (1, "0.000001"),
        (1_500_000, "1.5"),
        (10_000_000, "10"),
        (-2_250_000, "-2.25"),
        (10**15, "1000000000"),
    ],
)
def test_token_strings_are_exact(units_amount, text):
    assert tokens(units_amount) == text
    assert Decimal(text) * 1_000_000 == units_amount


def test_units_parse():
    assert units("1.5") == 1_500_000 and units("0.000001") == 1
    for bad in ("0", "0.0000001", "abc", "-1"):
        with pytest.raises(InvalidInputError):
            units(bad)


def test_finite_or_none():
    assert finite_or_none(None) is None and finite_or_none(float("nan")) is None
    assert finite_or_none(float("inf")) is None and finite_or_none(0.25) == 0.25
