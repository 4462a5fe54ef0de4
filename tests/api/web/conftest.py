"""One live server per test module with a small season, and headless Chromium driven by Playwright.

The season: three accounts (alice, bob and mallory, whose model is named like a script tag), two resolved
rounds (the second scored with realized returns, so it has TC and True Return), an open round, and the
operator's validation data for diagnostics. Chromium is Debian's package (installed by ``.ci/run``);
Playwright only drives it. Skipped when Chromium is missing, except under ``CI=true``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kardashev.api.diagnostics import store_validation_data
from kardashev.api.keys import GeneratedKey
from kardashev.api.uploads import UploadedFile
from kardashev.data.era import Era
from kardashev.tournament.domain import tokens_to_units
from kardashev.tournament.round_scoring import ROUND_SCORES, StandardScorer
from kardashev.tournament.round_work import round_day
from tests.api.conftest import (
    START,
    FakeClock,
    LiveServer,
    classic_frame,
    make_settings,
    running_server,
    universe,
)

HORIZON = 2
XSS_NAME = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"


@dataclass(repr=False)
class Season:
    live: LiveServer
    keys: dict[str, GeneratedKey]
    models: dict[str, int]
    ids: list[str]
    resolved: list[int]
    current: int
    validation_ids: list[str]

    @property
    def url(self) -> str:
        return self.live.base_url


def _day(ids: list[str], day: int, seed: int, *, returns: bool) -> Era:
    rng = np.random.default_rng(seed)
    return round_day(
        day=day,
        ids=np.asarray(ids, dtype=object),
        target=rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(ids)),
        features=rng.integers(0, 5, (len(ids), 4)).astype(float),
        realized_returns=rng.normal(0, 0.02, len(ids)) if returns else None,
        exposures=np.column_stack([np.ones(len(ids)), rng.normal(size=len(ids))]) if returns else None,
    )


def validation_frame(n_eras: int = 6, per_era: int = 40, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_eras * per_era
    frame = pd.DataFrame(
        {
            "era": np.repeat([f"era{e:02d}" for e in range(n_eras)], per_era),
            "id": [f"v{i:04d}" for i in range(n)],
            "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n),
        }
    )
    for k in range(3):
        frame[f"feature_{k}"] = rng.integers(0, 5, n).astype(float)
    return frame


def build_season(live: LiveServer, *, scores: tuple[str, ...] | None = None) -> Season:
    """The season on ``live``; ``scores`` configures the scorer (default: the standard round scores)."""
    service, clock = live.context.service, live.clock
    if scores is not None:
        service.scorer = StandardScorer(scores=scores)
    keys, models = {}, {}
    for name in ("alice", "bob", "mallory"):
        account = service.create_account(name, now=clock(), tokens=tokens_to_units("100"))
        keys[name] = live.new_key(account.id, ["read", "upload", "stake"])
    keys["reader"] = live.new_key("bob", ["read"])
    keys["operator"] = live.admin_key
    for account, name in (("alice", "alice_one"), ("alice", "alice_two"), ("bob", "bob_one")):
        models[name] = service.create_model(account, name, now=clock()).id
    # The API refuses such a name; the service (and so the CLI) takes any text: pages must escape it.
    models["xss"] = service.create_model("mallory", XSS_NAME, now=clock()).id
    service.stake_increase(models["alice_one"], tokens_to_units("10"), now=clock())
    service.stake_increase(models["bob_one"], tokens_to_units("20"), now=clock())
    service.stake_increase(models["xss"], tokens_to_units("5"), now=clock())
    ids = universe()
    resolved = []
    for index, number in enumerate((1, 2)):
        service.open_round(number, universe=ids, close_time=clock() + dt.timedelta(hours=1), now=clock(),
                           horizon_days=HORIZON)  # fmt: skip
        for seed, model in enumerate(models.values()):
            service.submit(model, number, classic_frame(ids, seed=10 * number + seed), now=clock())
        clock.advance(hours=2)
        service.close_round(number, now=clock())
        for day in range(1, HORIZON + 1):
            returns = index == 1 and day == HORIZON
            service.score_round(number, _day(ids, day, 100 * number + day, returns=returns), now=clock())
        clock.advance(days=HORIZON + 1)
        service.resolve_round(number, now=clock())
        resolved.append(number)
    service.open_round(3, universe=ids, close_time=clock() + dt.timedelta(days=2), now=clock(),
                       horizon_days=HORIZON)  # fmt: skip
    validation = validation_frame()
    store_validation_data(
        live.context, UploadedFile(data=validation.to_csv(index=False).encode(), file_format="csv")
    )
    return Season(live, keys, models, ids, resolved, 3, validation["id"].tolist())


EXTRA_SCORES = (*ROUND_SCORES, "cwmm", "feature_exposure_max")
"""An operator's scorer that also records correlation with the meta model and feature exposure."""


@pytest.fixture(scope="module")
def season_scores() -> tuple[str, ...] | None:
    """The scorer's scores for the module's season (a module overrides this fixture to change them)."""
    return None


@pytest.fixture(scope="module")
def season(tmp_path_factory, season_scores) -> Iterator[Season]:
    root = tmp_path_factory.mktemp("web")
    with running_server(make_settings(root), FakeClock(START)) as live:
        yield build_season(live, scores=season_scores)


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed (CI installs it in .ci/run)")
    pytest.skip("chromium is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


class Tab:
    """A browser page that records JavaScript errors, console errors and CSP violations."""

    def __init__(self, browser: object, base_url: str, *, width: int = 1280) -> None:
        self.context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message: object) -> None:
        # a page answered with 4xx on purpose logs "Failed to load resource": sub-resources are checked below
        text = message.text  # type: ignore[attr-defined]
        if message.type == "error" and not text.startswith("Failed to load resource"):  # type: ignore[attr-defined]
            self.errors.append(text)

    def _response(self, response: object) -> None:
        if response.status >= 400 and response.request.resource_type != "document":  # type: ignore[attr-defined]
            self.errors.append(f"{response.status} {response.url}")  # type: ignore[attr-defined]

    def open(self, path: str) -> object:
        response = self.page.goto(path, wait_until="load")
        return response

    def sign_in(self, key: GeneratedKey) -> None:
        self.open("/signin")
        self.page.fill("#api_key", key.token)
        self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, season) -> Iterator[Tab]:
    opened = Tab(browser, season.url)
    yield opened
    opened.close()


def write_csv(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    path = folder / name
    frame.to_csv(path, index=False)
    return path
