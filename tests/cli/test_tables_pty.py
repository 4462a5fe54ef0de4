"""Every table the CLI prints, read back from a real pseudo-terminal of 80 and 120 columns.

The command runs as a subprocess whose stdin and stdout are a pty sized with ``TIOCSWINSZ`` (no
``$COLUMNS``), so rich sees a terminal of that width exactly as a user's shell would give it. The
printed tables are parsed back (whatever layout the renderer chose) and each number is compared
with the value the library computes on the same inputs, to the printed precision. A number cut,
folded or split across lines fails the parse.

To cover a new table, add a :class:`Case`: a setup that writes the inputs and returns the command
line and the expected tables.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt
from typer.testing import CliRunner

import kardashev
from kardashev.cli.main import app
from kardashev.cli.score import _TABLE_COLUMNS
from kardashev.contribution.fund_config import FundConfig, ReleaseSpec, RiskColumns, fund_config_toml
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import era_inputs
from kardashev.scoring import summarize
from kardashev.scoring.io import read_table
from kardashev.store import open_store
from kardashev.tournament import UNITS_PER_TOKEN, TournamentService
from kardashev.tournament.dry_run import preview_resolve
from kardashev.tournament.holdings import account_holdings
from tests.cli.table_text import parse_number, parse_table
from tests.scoring.numerai_files import write_classic
from tests.scoring.test_io import write_dataset

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

_ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>])")


@dataclass(frozen=True)
class Expected:
    """One table the command prints: ``(full header, short header)`` per column, the number of
    label columns, and ``{record label: {full header: value}}`` for the numeric cells."""

    columns: list[tuple[str, str]]
    records: dict[str, dict[str, float | None]]
    labels: int = 1


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path], tuple[list[str], list[Expected]]]


def run_in_pty(args: list[str], *, width: int, cwd: Path, timeout: float = 180.0) -> str:
    """Run ``python -m kardashev ARGS`` on a pty of ``width`` columns; its output, escapes removed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    source = str(Path(kardashev.__file__).resolve().parents[1])
    env.update(
        TERM="xterm-256color",
        PYTHONPATH=os.pathsep.join([source, env.get("PYTHONPATH", "")]),
        KARDASHEV_DATABASE_URL="",
    )
    errors = cwd / f"stderr-{width}.txt"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "kardashev", *args],
            stdin=slave,
            stdout=slave,
            stderr=stderr,
            cwd=cwd,
            env=env,
            close_fds=True,
        )
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                process.kill()
                raise AssertionError(f"kardashev {' '.join(args)} did not finish in {timeout} s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    assert process.wait(timeout=timeout) == 0, errors.read_text()
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    return _ANSI.sub("", text)


# ----------------------------------------------------------------------------- cases


def _score_expectation(per_era: pd.DataFrame, targets: list[str]) -> Expected:
    columns = [("model", "model"), *((c.title, c.short or c.title) for c in _TABLE_COLUMNS)]
    labels = 1
    if len(targets) > 1:
        columns, labels = [("target", "target"), *columns], 2
    records: dict[str, dict[str, float | None]] = {}
    for target in targets:
        rows = per_era[per_era["target"] == target].drop(columns="target")
        summary = summarize(rows, target_horizon_eras=4)
        for model, row in summary.iterrows():
            label = f"{target} · {model}" if labels == 2 else str(model)
            records[label] = {
                c.title: None if pd.isna(row[c.key]) else float(row[c.key])
                for c in _TABLE_COLUMNS
                if c.key in summary.columns
            }
    present = {header for record in records.values() for header in record}
    return Expected([c for c in columns if c[0] in present or c[0] in ("model", "target")], records, labels)


def _per_era(args: list[str], out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out)


def score_small(root: Path) -> tuple[list[str], list[Expected]]:
    paths = write_dataset(root)
    args = ["score", str(paths["predictions"]), "--data", str(paths["data"])]
    args += ["--meta-model", str(paths["meta_model"]), "--features", "small"]
    per_era = _per_era(args, root / "expected.parquet")
    expected = _score_expectation(per_era, ["target"])
    # the reference: CORR straight from numerai-tools
    data, predictions = read_table(paths["data"]), read_table(paths["predictions"]).set_index("id")
    for model in ("model_a", "model_b"):
        corrs = [
            nt.numerai_corr(predictions.loc[era["id"], [model]], era.set_index("id")["target"].astype(float))[
                model
            ]
            for _, era in data.groupby("era")
        ]
        assert expected.records[model]["CORR"] == pytest.approx(np.mean(corrs), abs=1e-12)
    return args, [expected]


def score_numerai_targets(root: Path) -> tuple[list[str], list[Expected]]:
    files = write_classic(root / "v5.0")
    args = ["score", str(files["example"]), "--data", str(files["validation"])]
    args += ["--meta-model", str(files["meta_model"]), "--benchmark", str(files["benchmark"])]
    args += ["--target", "target", "--target", "target_teager2b_60"]
    per_era = _per_era(args, root / "expected.parquet")
    return args, [_score_expectation(per_era, ["target", "target_teager2b_60"])]


_MODELS = ("unstaked_original_01", "whale_with_a_big_stake", "alpha", "beta")
_STAKES = ("0", "1234567.891", "40", "0.5")
_IDS = [f"S{i:03d}" for i in range(40)]


_BUILT: list[Path] = []


def _tournament(root: Path) -> list[str]:
    """Two resolved rounds of four models (built once, copied); the --data-dir option."""
    base = ["--data-dir", str(root / "data")]
    if _BUILT and _BUILT[0].is_dir():
        shutil.copytree(_BUILT[0], root / "data")
        return base
    _build_tournament(root, base)
    _BUILT[:] = [root / "data"]
    return base


def _build_tournament(root: Path, base: list[str]) -> None:
    runner = CliRunner()

    def cli(*args: str, now: str) -> None:
        result = runner.invoke(app, [*args, *base, "--now", now], env={"KARDASHEV_DATABASE_URL": ""})
        assert result.exit_code == 0, (result.output, result.exception)

    rng = np.random.default_rng(3)
    pd.DataFrame({"id": _IDS}).to_csv(root / "universe.csv", index=False)
    for i, (model, stake) in enumerate(zip(_MODELS, _STAKES, strict=True)):
        cli("account", "create", f"owner{i}", "--tokens", "2000000", now="2026-01-01T00:00:00")
        cli("model", "create", f"owner{i}", model, now="2026-01-01T00:00:00")
        if stake != "0":
            cli("stake", "increase", model, stake, now="2026-01-01T00:00:00")
    for number in (1, 2):
        opened, closes, resolves = (f"2026-01-{d + 4 * number:02d}T00:00:00" for d in (1, 2, 3))
        cli("round", "open", str(number), "--universe", str(root / "universe.csv"), "--close", closes,
            "--horizon", "1", now=opened)  # fmt: skip
        for model in _MODELS:
            predictions = root / f"{model}-{number}.csv"
            pd.DataFrame({"id": _IDS, "prediction": rng.random(len(_IDS))}).to_csv(predictions, index=False)
            cli("submit", model, str(predictions), now=opened.replace("T00", "T01"))
        cli("round", "close", str(number), now=closes)
        market = root / f"day-{number}.csv"
        target = rng.integers(0, 5, len(_IDS)) / 4
        pd.DataFrame(
            {"id": _IDS, "target": target, "realized_return": rng.normal(0, 0.02, len(_IDS))}
        ).to_csv(market, index=False)
        cli("round", "score", str(number), "--day", "1", "--data", str(market), now=resolves)
        cli("round", "resolve", str(number), now=resolves.replace("T00", "T01"))


def _service(base: list[str]) -> TournamentService:
    return TournamentService(open_store(None, data_dir=Path(base[1])))


def _headers(key: str) -> tuple[str, str]:
    special = {"stake": ("stake (tokens)", "stake"), "payout": ("payout (tokens)", "payout")}
    special["true_return"] = ("true_return", "TrueRet")
    special["n_rounds"] = ("n_rounds", "n")
    return special.get(key, (key, key))


def _frame_expectation(frame: pd.DataFrame, label: str, tokens: tuple[str, ...] = ()) -> Expected:
    records: dict[str, dict[str, float | None]] = {}
    for index, row in frame.iterrows():
        record = {}
        for key, value in row.items():
            if key in tokens:
                value = float(value) / UNITS_PER_TOKEN
            record[_headers(str(key))[0]] = None if pd.isna(value) else float(value)
        records[str(index)] = record
    return Expected([(label, label), *(_headers(str(k)) for k in frame.columns)], records)


def leaderboard(root: Path, *, wide: bool = False) -> tuple[list[str], list[Expected]]:
    base = _tournament(root)
    board = _service(base).leaderboard()
    if not wide:
        keep = ["rank", "return_20r", "corr", "mmc", "tc", "fnc", "true_return", "stake", "return"]
        board = board[[c for c in keep if c in board.columns]]
    return ["leaderboard", *(["--all"] if wide else []), *base], [
        _frame_expectation(board, "model", tokens=("stake",))
    ]


def diagnostics(root: Path) -> tuple[list[str], list[Expected]]:
    base = _tournament(root)
    per_round, summary = _service(base).diagnostics("whale_with_a_big_stake")
    per_round = per_round.drop(columns=["day", "stake", "late"])
    return ["diagnostics", "whale_with_a_big_stake", *base], [
        _frame_expectation(per_round, "round", tokens=("payout",)),
        _frame_expectation(summary, "metric"),
    ]


def resolve_dry_run(root: Path) -> tuple[list[str], list[Expected]]:
    base = _tournament(root)
    service = _service(base)
    now = "2026-01-12T00:00:00"
    preview = preview_resolve(service, 2, now=dt.datetime.fromisoformat(now).replace(tzinfo=dt.timezone.utc))
    records: dict[str, dict[str, float | None]] = {
        service.get_model(p.model_id).name: {
            "stake (tokens)": p.stake / UNITS_PER_TOKEN,
            "payout fraction": p.payout_fraction,
            "payout (tokens)": p.amount / UNITS_PER_TOKEN,
        }
        for p in preview.payouts
    }
    columns = [("model", "model"), ("stake (tokens)", "stake"), ("payout fraction", "fraction")]
    columns.append(("payout (tokens)", "payout"))
    return ["round", "resolve", "2", "--dry-run", "--now", now, *base], [Expected(columns, records)]


def account_list(root: Path) -> tuple[list[str], list[Expected]]:
    base = _tournament(root)
    records: dict[str, dict[str, float | None]] = {}
    for held in account_holdings(_service(base)):
        records[held.account.name] = {
            "wallet": held.wallet / UNITS_PER_TOKEN,
            "models": float(len(held.models)),
            "staked": held.staked / UNITS_PER_TOKEN,
            "at risk": sum(info.at_risk for _, info in held.models) / UNITS_PER_TOKEN,
        }
    columns = [(name, name) for name in ("account", "wallet", "models", "staked", "at risk")]
    return ["account", "list", *base], [Expected(columns, records)]


def account_show(root: Path) -> tuple[list[str], list[Expected]]:
    base = _tournament(root)
    service = _service(base)
    (held,) = account_holdings(service, "owner1")
    models: dict[str, dict[str, float | None]] = {
        model.name: {
            "stake": info.stake / UNITS_PER_TOKEN,
            "at risk": info.at_risk / UNITS_PER_TOKEN,
            "total": info.total / UNITS_PER_TOKEN,
            "pending release": info.pending / UNITS_PER_TOKEN,
        }
        for model, info in held.models
    }
    model_columns = [(name, name) for name in ("model", "stake", "at risk", "total", "pending release")]
    moves: dict[str, dict[str, float | None]] = {}
    for move in service.wallet_transactions(held.account.id)[-10:]:
        label = f"{move.time:%Y-%m-%d %H:%M} · {move.kind}"
        assert label not in moves  # one movement of a kind a minute in this season
        moves[label] = {
            "amount": move.amount / UNITS_PER_TOKEN,
            "round": None if move.round_number is None else float(move.round_number),
        }
    move_columns = [(name, name) for name in ("time (UTC)", "kind", "amount", "from", "to", "model", "round")]
    return ["account", "show", "owner1", *base], [
        Expected(model_columns, models),
        Expected(move_columns, moves, labels=2),
    ]


def tc_at_home(root: Path, *, n_models: int = 10) -> tuple[list[str], list[Expected]]:
    """``kardashev tc`` on three eras of a synthetic market: per-model summary (> 8 models) or per era."""
    market = generate_market(MarketConfig(n_stocks=80, n_eras=4, seed=5))
    crowd = generate_crowd(market, CrowdConfig(n_models=n_models, seed=5, n_unstaked_original=0))
    frames: dict[str, list[pd.DataFrame]] = {"data": [], "predictions": [], "risk": [], "released": []}
    for t in (1, 2, 3):
        era = era_inputs(market.era(t), crowd.predictions(market.era(t)))
        keys = {"id": era.ids, "era": era.era}
        frames["data"].append(pd.DataFrame({**keys, "target": era.target}))
        models = dict(zip(crowd.model_names, era.predictions.T, strict=True))
        frames["predictions"].append(pd.DataFrame({**keys, **models}))
        exposures = dict(zip(era.exposure_names, era.exposures.T, strict=True))
        risk = {"specific_variance": era.risk.specific_variance, "adv": era.adv}
        frames["risk"].append(
            pd.DataFrame({**keys, **exposures, **risk, "residual_return": era.realized_returns})
        )
        blend = era.gaussianized @ (crowd.stakes / crowd.stakes.sum())
        frames["released"].append(pd.DataFrame({**keys, "blend": blend}))
    paths = {name: root / f"{name}.parquet" for name in frames}
    for name, parts in frames.items():
        pd.concat(parts).to_parquet(paths[name], index=False)
    columns = RiskColumns(
        exposures=tuple(market.exposure_names),
        returns="residual_return",
        specific_variance="specific_variance",
        factor_covariance=market.factor_covariance,
        adv="adv",
    )
    fund = FundConfig(risk=columns, release=ReleaseSpec(kind="stake_weighted", lag=0, form="blend"))
    (root / "FUND.toml").write_text(fund_config_toml(fund))
    args = ["tc", str(paths["predictions"]), "--meta-model", str(paths["released"])]
    args += ["--config", str(root / "FUND.toml"), "--data", str(paths["data"]), "--risk", str(paths["risk"])]
    result = CliRunner().invoke(app, [*args, "--out", str(root / "tc.csv")])
    assert result.exit_code == 0, result.output
    per_era = pd.read_csv(root / "tc.csv", dtype={"era": str}).set_index("era")
    if n_models <= 8:
        rows = pd.concat([per_era, per_era.mean().to_frame("mean").T])
        records = {str(era): {m: float(v) for m, v in row.items()} for era, row in rows.iterrows()}
        return args, [Expected([("era", "era"), *((m, m) for m in crowd.model_names)], records)]
    spread = per_era.std(ddof=1)
    records = {
        model: {
            "eras": float(per_era[model].count()),
            "mean TC": float(per_era[model].mean()),
            "std of TC": float(spread[model]),
            "mean/std": float(per_era[model].mean() / spread[model]),
        }
        for model in crowd.model_names
    }
    headers = [("model", "model"), ("eras", "eras"), ("mean TC", "mean TC"), ("std of TC", "std")]
    return args, [Expected([*headers, ("mean/std", "mean/std")], records)]


CASES = [
    Case("score", score_small),
    Case("score --target ×2", score_numerai_targets),
    Case("leaderboard", leaderboard),
    Case("leaderboard --all", lambda root: leaderboard(root, wide=True)),
    Case("diagnostics", diagnostics),
    Case("round resolve --dry-run", resolve_dry_run),
    Case("account list", account_list),
    Case("account show", account_show),
    Case("tc (summary of 10 models)", tc_at_home),
    Case("tc (per era, 3 models)", lambda root: tc_at_home(root, n_models=3)),
]


def _check(text: str, expected: Expected, *, width: int) -> None:
    layout, records = parse_table(text, expected.columns, labels=expected.labels)
    assert set(records) == set(expected.records), (layout, text)
    for label, values in expected.records.items():
        for header, value in values.items():
            cell = records[label].get(header)
            assert cell is not None, f"{label}: no {header} in the {layout} layout at {width}:\n{text}"
            parsed = parse_number(cell)
            if value is None:
                assert parsed is None, f"{label} {header}: {cell} for a missing value"
                continue
            assert parsed is not None, f"{label} {header}: — for {value}"
            printed, half_unit = parsed
            assert value == pytest.approx(printed, abs=half_unit * 1.0001, rel=1e-12), (label, header, cell)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_cli_table_keeps_its_numbers_whole_on_a_real_terminal(case: Case, tmp_path: Path) -> None:
    args, expected = case.setup(tmp_path)
    for width in (80, 120):
        text = run_in_pty(args, width=width, cwd=tmp_path)
        too_long = [line for line in text.splitlines() if len(line) > width]
        assert not too_long, f"lines wider than {width}: {too_long}"
        for table in expected:
            _check(text, table, width=width)


def test_the_pty_has_the_width_it_was_given(tmp_path: Path) -> None:
    script = "import rich.console as c; k = c.Console(); print(k.is_terminal, k.width)"
    for width in (80, 120):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        subprocess.run([sys.executable, "-c", script], stdin=slave, stdout=slave, env=env, check=True)
        os.close(slave)
        output = os.read(master, 1024).decode()
        os.close(master)
        assert output.split() == ["True", str(width)]
