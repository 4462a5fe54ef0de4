"""``FUND.toml``: what an operator publishes so a participant can estimate their TC at home.

True Contribution needs the fund's optimizer, the risk data it neutralizes against, the realized
returns and the blend of everyone's predictions. An operator can publish all but the last; the
blend is replaced by the released (lagged) meta model (:mod:`kardashev.contribution.local`). The
file has four tables, every key optional (absent: the default shown)::

    [optimizer]                  # any field of kardashev.portfolio.OptimizerConfig
    risk_aversion = 1.0
    gross_leverage = 1.0
    max_position = 2.5

    [risk]                       # columns of the risk file the operator publishes (id, era, …)
    exposures = ["size", "beta"] # neutrality columns; absent: every other numeric column but
                                 # data_type, specific_variance, adv, return, residual_return
    returns = "residual_return"  # realized returns: a risk-file column, or "target" (the data's)
    specific_variance = ""       # column of d in Σ = B F Bᵀ + diag(d); "" : no factor risk model
    factor_covariance = []       # F, k×k over the exposures (with specific_variance)
    adv = ""                     # column of average daily dollar volume; "" : none

    [participant]
    stake_share = 0.01           # the participant's hypothetical share of the total stake, [0, 1)

    [release]                    # how the meta model is released
    kind = "naive"               # "naive" (equal weights) or "stake_weighted"
    lag = 4                      # rounds between a round and its meta model's release
    min_contributors = 100
    form = "rank"                # "rank": tie-kept ranks in (0, 1); "blend": the raw blend of
                                 # gaussianized predictions
    scale = 1.0                  # std of the blend behind released ranks (TC scales as 1/scale)

Every key is checked: an unknown key, a wrong type or an out-of-range value raises
:class:`~kardashev.errors.ConfigError` naming it (``[optimizer] risk_aversion …``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kardashev.errors import ConfigError, NotFoundError
from kardashev.portfolio import OptimizerConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "RELEASE_FORMS",
    "RELEASE_KINDS",
    "FundConfig",
    "ReleaseSpec",
    "RiskColumns",
    "fund_config_dict",
    "fund_config_toml",
    "load_fund_config",
    "parse_fund_config",
]

RELEASE_KINDS = ("naive", "stake_weighted")
RELEASE_FORMS = ("rank", "blend")
_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, eq=False)
class RiskColumns:
    """Which columns of the operator's risk file (and data) feed the optimizer.

    ``exposures`` ``None``: every numeric column but id/era, the named ones and ``data_type``,
    ``specific_variance``, ``adv``, ``return``, ``residual_return``. ``returns``: a
    risk-file column, or ``"target"`` for the data's target (centered). A factor risk model
    ``B F Bᵀ + diag(d)`` is used when both ``specific_variance`` and ``factor_covariance`` are set.
    """

    exposures: tuple[str, ...] | None = None
    returns: str = "residual_return"
    specific_variance: str | None = None
    factor_covariance: np.ndarray | None = None
    adv: str | None = None

    def special(self) -> tuple[str, ...]:
        """The named non-exposure columns."""
        return tuple(c for c in (self.returns, self.specific_variance, self.adv) if c)


@dataclass(frozen=True, kw_only=True)
class ReleaseSpec:
    """How the meta model a participant holds was released (see the module docstring)."""

    kind: str = "naive"
    lag: int = 4
    min_contributors: int = 100
    form: str = "rank"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in RELEASE_KINDS:
            raise ConfigError(f"release kind must be one of {', '.join(RELEASE_KINDS)}, got {self.kind!r}")
        if self.form not in RELEASE_FORMS:
            raise ConfigError(f"release form must be one of {', '.join(RELEASE_FORMS)}, got {self.form!r}")
        if isinstance(self.lag, bool) or not isinstance(self.lag, int) or self.lag < 0:
            raise ConfigError(f"release lag must be an integer >= 0, got {self.lag!r}")
        if isinstance(self.min_contributors, bool) or not isinstance(self.min_contributors, int):
            raise ConfigError(f"release min_contributors must be an integer, got {self.min_contributors!r}")
        if self.min_contributors < 2:
            raise ConfigError(f"release min_contributors must be >= 2, got {self.min_contributors}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ConfigError(f"release scale must be a finite number > 0, got {self.scale!r}")


@dataclass(frozen=True, kw_only=True, eq=False)
class FundConfig:
    """A parsed ``FUND.toml``."""

    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    risk: RiskColumns = field(default_factory=RiskColumns)
    stake_share: float = 0.01
    release: ReleaseSpec = field(default_factory=ReleaseSpec)


def _where(table: str, key: str) -> str:
    return f"[{table}] {key}"


def _number(
    table: str, key: str, value: object, *, low: float, high: float = math.inf, closed: bool
) -> float:
    """A finite number above ``low`` (``closed``: or equal) and at most ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"FUND.toml: {_where(table, key)} must be a finite number, got {value!r}")
    if value < low or (value == low and not closed) or value > high:
        raise ConfigError(f"FUND.toml: {_where(table, key)} = {value!r} is out of range")
    return float(value)


def _integer(table: str, key: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"FUND.toml: {_where(table, key)} must be an integer >= {low}, got {value!r}")
    return int(value)


def _choice(table: str, key: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"FUND.toml: {_where(table, key)} must be one of {list(choices)}, got {value!r}")
    return str(value)


def _column(table: str, key: str, value: object) -> str | None:
    if not isinstance(value, str):
        raise ConfigError(f"FUND.toml: {_where(table, key)} must be a column name (a string), got {value!r}")
    return value or None


def _table(document: dict[str, Any], name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"FUND.toml: [{name}] must be a table")
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise ConfigError(f"FUND.toml: unknown key {_where(name, unknown[0])} (known: {', '.join(keys)})")
    return table


def _optimizer(table: dict[str, Any]) -> OptimizerConfig:
    fields_ = {f.name: f for f in dataclasses.fields(OptimizerConfig)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        default = fields_[key].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(
                    f"FUND.toml: {_where('optimizer', key)} must be true or false, got {value!r}"
                )
        elif key == "max_iterations":
            value = _integer("optimizer", key, value, low=1)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"FUND.toml: {_where('optimizer', key)} must be a number, got {value!r}")
        plain_int = isinstance(value, int) and not isinstance(value, bool)
        values[key] = float(value) if plain_int and key != "max_iterations" else value
    try:
        return OptimizerConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f"FUND.toml: [optimizer] {exc.message}") from None


def _risk(table: dict[str, Any]) -> RiskColumns:
    exposures = table.get("exposures")
    if exposures is not None:
        if not isinstance(exposures, list) or not all(isinstance(e, str) and e for e in exposures):
            raise ConfigError("FUND.toml: [risk] exposures must be a list of column names")
        if len(set(exposures)) != len(exposures):
            raise ConfigError("FUND.toml: [risk] exposures repeats a column")
    returns = _column("risk", "returns", table.get("returns", "residual_return"))
    if returns is None:
        raise ConfigError('FUND.toml: [risk] returns must name a column (or be "target")')
    specific = _column("risk", "specific_variance", table.get("specific_variance", ""))
    adv = _column("risk", "adv", table.get("adv", ""))
    covariance = None
    raw = table.get("factor_covariance", [])
    if not isinstance(raw, list):
        raise ConfigError("FUND.toml: [risk] factor_covariance must be a k×k list of lists")
    if raw:
        try:
            covariance = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("FUND.toml: [risk] factor_covariance must be a k×k list of numbers") from None
        k = covariance.shape[0]
        if covariance.shape != (k, k) or not np.isfinite(covariance).all():
            raise ConfigError(
                f"FUND.toml: [risk] factor_covariance must be square and finite, got {covariance.shape}"
            )
        if not np.allclose(covariance, covariance.T):
            raise ConfigError("FUND.toml: [risk] factor_covariance must be symmetric")
        if specific is None:
            raise ConfigError("FUND.toml: [risk] factor_covariance needs specific_variance (the column of d)")
        if exposures is not None and len(exposures) != k:
            raise ConfigError(
                f"FUND.toml: [risk] factor_covariance is {k}×{k} but there are {len(exposures)} exposures"
            )
    elif specific is not None:
        raise ConfigError(
            "FUND.toml: [risk] specific_variance needs factor_covariance (F of B F Bᵀ + diag(d))"
        )
    named = [c for c in (returns, specific, adv) if c]
    if exposures is not None and set(exposures) & set(named):
        raise ConfigError(
            f"FUND.toml: [risk] exposures include a named column {sorted(set(exposures) & set(named))}"
        )
    return RiskColumns(
        exposures=None if exposures is None else tuple(exposures),
        returns=returns,
        specific_variance=specific,
        factor_covariance=covariance,
        adv=adv,
    )


def _release(table: dict[str, Any]) -> ReleaseSpec:
    defaults = ReleaseSpec()
    return ReleaseSpec(
        kind=_choice("release", "kind", table.get("kind", defaults.kind), RELEASE_KINDS),
        lag=_integer("release", "lag", table.get("lag", defaults.lag), low=0),
        min_contributors=_integer(
            "release", "min_contributors", table.get("min_contributors", defaults.min_contributors), low=2
        ),
        form=_choice("release", "form", table.get("form", defaults.form), RELEASE_FORMS),
        scale=_number("release", "scale", table.get("scale", defaults.scale), low=0.0, closed=False),
    )


def parse_fund_config(text: str) -> FundConfig:
    """Parse and check a ``FUND.toml`` document (see the module docstring)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"FUND.toml is not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"optimizer", "risk", "participant", "release"})
    if unknown:
        raise ConfigError(
            f"FUND.toml: unknown table or key {unknown[0]!r} (known: optimizer, risk, participant, release)"
        )
    optimizer_keys = tuple(f.name for f in dataclasses.fields(OptimizerConfig))
    participant = _table(document, "participant", ("stake_share",))
    share = _number(
        "participant", "stake_share", participant.get("stake_share", 0.01), low=0.0, high=1.0, closed=True
    )
    if share >= 1.0:
        raise ConfigError(f"FUND.toml: [participant] stake_share must be below 1, got {share!r}")
    return FundConfig(
        optimizer=_optimizer(_table(document, "optimizer", optimizer_keys)),
        risk=_risk(
            _table(
                document, "risk", ("exposures", "returns", "specific_variance", "factor_covariance", "adv")
            )
        ),
        stake_share=share,
        release=_release(_table(document, "release", tuple(f.name for f in dataclasses.fields(ReleaseSpec)))),
    )


def load_fund_config(path: str | Path) -> FundConfig:
    """Read and parse a ``FUND.toml`` file."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such config file", code="file_not_found")
    if path.stat().st_size > _MAX_BYTES:
        raise ConfigError(f"{path.name} is larger than {_MAX_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path.name} is not UTF-8 text") from None
    return parse_fund_config(text)


def fund_config_dict(config: FundConfig) -> dict[str, dict[str, Any]]:
    """The config as plain JSON-able tables (``None`` optimizer fields and empty columns left out)."""
    optimizer = {
        f.name: getattr(config.optimizer, f.name)
        for f in dataclasses.fields(OptimizerConfig)
        if getattr(config.optimizer, f.name) is not None
    }
    risk: dict[str, Any] = {"returns": config.risk.returns}
    if config.risk.exposures is not None:
        risk["exposures"] = list(config.risk.exposures)
    if config.risk.specific_variance is not None and config.risk.factor_covariance is not None:
        risk["specific_variance"] = config.risk.specific_variance
        risk["factor_covariance"] = config.risk.factor_covariance.tolist()
    if config.risk.adv is not None:
        risk["adv"] = config.risk.adv
    return {
        "optimizer": optimizer,
        "risk": risk,
        "participant": {"stake_share": config.stake_share},
        "release": dataclasses.asdict(config.release),
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")  # pragma: no cover - the dict holds only these


def fund_config_toml(config: FundConfig) -> str:
    """The config written as ``FUND.toml`` text (:func:`parse_fund_config` reads it back)."""
    lines = ["# FUND.toml: what this fund publishes for TC at home (kardashev tc --config FUND.toml)"]
    for name, table in fund_config_dict(config).items():
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"
