"""The operator in headless Chromium: runs a round from opening to resolution, audits the ledger,
manages accounts and keys."""

from __future__ import annotations

from decimal import Decimal

import httpx
import numpy as np
import pandas as pd
import pytest

from kardashev.api.convert import tokens
from tests.api.conftest import classic_frame
from tests.api.web.conftest import HORIZON, write_csv

pytestmark = pytest.mark.slow


def _admin(season, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Token {season.keys['operator'].token}"}
    return httpx.request(method, season.url + path, headers=headers, timeout=60, **kwargs)


def _day_frame(ids: list[str], seed: int, *, returns: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": ids, "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(ids))})
    for k in range(3):
        frame[f"feature_{k}"] = rng.integers(0, 5, len(ids)).astype(float)
    if returns:
        frame["realized_return"] = rng.normal(0, 0.02, len(ids))
        frame["exposure_0"] = 1.0
        frame["exposure_1"] = rng.normal(size=len(ids))
    return frame


def _row(tab, number: int):
    return tab.page.locator(f"#lifecycle tr[data-round='{number}']")


def test_operator_runs_a_round_to_resolution(season, tab, tmp_path) -> None:
    live, service = season.live, season.live.context.service
    tab.sign_in(season.keys["operator"])
    assert tab.page.url.endswith("/operator")  # an admin-only key lands on the operator pages
    number = 4
    close = live.clock() + pd.Timedelta(hours=1)
    tab.page.fill("#close_time", close.strftime("%Y-%m-%dT%H:%M"))
    tab.page.fill("#horizon_days", str(HORIZON))
    tab.page.set_input_files(
        "#universe", str(write_csv(tmp_path, "universe.csv", pd.DataFrame({"id": season.ids})))
    )
    tab.page.click("#open-round button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("p.notice") == "Round opened."
    opened = _admin(season, "GET", f"/v1/rounds/{number}").json()
    assert opened["status"] == "open" and opened["n_universe"] == len(season.ids)
    assert opened["close_time"].startswith(close.strftime("%Y-%m-%dT%H:%M"))
    assert _row(tab, number).locator("button").is_disabled()  # the close waits for the close time
    assert "close time" in _row(tab, number).locator("td.waits").text_content()

    for seed, model in enumerate(("alice_one", "bob_one")):
        service.submit(
            season.models[model], number, classic_frame(season.ids, seed=900 + seed), now=live.clock()
        )
    live.clock.advance(hours=2)
    tab.open("/operator")
    _row(tab, number).locator("button").click()
    tab.page.wait_for_load_state("load")
    closed = _admin(season, "GET", f"/v1/rounds/{number}").json()
    assert closed["status"] == "closed" and closed["n_contributors"] == 2
    assert "day 1's data" in _row(tab, number).locator("td.waits").text_content()

    day1 = write_csv(tmp_path, "day1.csv", _day_frame(season.ids, 1, returns=False))
    _row(tab, number).locator("input[type=file]").set_input_files(str(day1))
    _row(tab, number).locator("button").click()
    tab.page.wait_for_load_state("load")
    assert _admin(season, "GET", f"/v1/rounds/{number}").json()["days_scored"] == 1
    # the final day before the resolve time: it may be scored, but the round cannot resolve yet
    assert _row(tab, number).locator("input[name=resolve]").count() == 0
    assert "resolve time" in _row(tab, number).locator("td.waits").text_content()

    live.clock.advance(days=HORIZON + 1)
    tab.open("/operator")
    assert _row(tab, number).locator("input[name=resolve]").is_checked()
    day2 = write_csv(tmp_path, "day2.csv", _day_frame(season.ids, 2, returns=True))
    _row(tab, number).locator("input[type=file]").set_input_files(str(day2))
    _row(tab, number).locator("button").click()
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("p.notice").startswith("Round resolved")
    resolved = _admin(season, "GET", f"/v1/rounds/{number}").json()
    assert resolved["status"] == "resolved" and resolved["days_scored"] == HORIZON
    payouts = service.payouts(round_number=number)
    assert len(payouts) == 2
    metrics = {s.metric for s in service.scores(round_number=number, day=HORIZON)}
    assert {"corr", "mmc", "fnc", "tc", "true_return"} <= metrics  # the day file's columns reached the scorer
    tab.open(f"/rounds/{number}")
    assert tab.page.text_content("#round-status") == "resolved"
    paid = sum(p.amount for p in payouts if p.amount > 0)
    assert tab.page.text_content("#paid") == tokens(paid)
    assert tab.errors == []


def test_a_bad_day_file_is_refused_with_its_reason(season, tab, tmp_path) -> None:
    live, service = season.live, season.live.context.service
    number = 5
    service.open_round(number, universe=season.ids, close_time=live.clock() + pd.Timedelta(minutes=5),
                       now=live.clock(), horizon_days=HORIZON)  # fmt: skip
    service.submit(season.models["alice_one"], number, classic_frame(season.ids, seed=5), now=live.clock())
    live.clock.advance(hours=1)
    service.close_round(number, now=live.clock())
    tab.sign_in(season.keys["operator"])
    bad = pd.DataFrame({"id": season.ids, "not_target": 0.5})
    _row(tab, number).locator("input[type=file]").set_input_files(str(write_csv(tmp_path, "bad.csv", bad)))
    with tab.page.expect_navigation() as navigation:
        _row(tab, number).locator("button").click()
    assert navigation.value.status == 422
    assert "target" in tab.page.text_content("p.error")
    assert service.get_round(number).days_scored == 0


def test_ledger_audit_page_matches_the_api(season, tab) -> None:
    tab.sign_in(season.keys["operator"])
    tab.open("/operator/audit")
    api = _admin(season, "GET", "/v1/admin/ledger/audit").json()
    assert api["ok"] is True
    assert tab.page.text_content("#audit-result") == "The ledger is consistent."
    rows = dict(
        tab.page.eval_on_selector_all(
            "#audit tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
        )
    )
    assert rows["Minted"] == api["minted"] and rows["Burned"] == api["burned"]
    assert rows["Circulating"] == api["circulating"]
    assert rows["Transactions"] == str(api["n_transactions"])


def test_accounts_and_keys(season, tab) -> None:
    tab.sign_in(season.keys["operator"])
    tab.open("/operator/accounts")
    tab.page.fill("#new-account input[name=name]", "dave")
    tab.page.fill("#new-account input[name=deposit]", "12.5")
    tab.page.click("#new-account button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("#wallet") == "12.5"
    accounts = {a["name"]: a for a in _admin(season, "GET", "/v1/admin/accounts").json()}
    assert accounts["dave"]["wallet_balance"] == "12.5"

    tab.page.fill("#deposit-form input[name=amount]", "0.5")
    tab.page.click("#deposit-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("#wallet") == "13"

    tab.page.uncheck("#new-key-form input[value=stake]")
    tab.page.click("#new-key-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    token = tab.page.text_content("#new-key")
    public_id, secret = token.split("$")
    assert tab.page.locator("#keys tbody tr").count() == 1
    assert tab.page.text_content("#keys tbody tr td:nth-child(2)") == "read, upload"
    me = httpx.get(f"{season.url}/v1/account", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200 and me.json()["name"] == "dave"
    assert Decimal(me.json()["wallet_balance"]) == Decimal("13")
    # the secret is shown once: the account page never shows it again
    tab.open(f"/operator/accounts/{accounts['dave']['id']}")
    assert secret not in tab.page.content() and public_id in tab.page.content()
    tab.page.click("#keys button.danger")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("#keys tbody tr td:nth-child(4)") == "revoked"
    revoked = httpx.get(f"{season.url}/v1/account", headers={"Authorization": f"Token {token}"})
    assert revoked.status_code == 401
    assert tab.errors == []
