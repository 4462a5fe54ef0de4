"""The operator in headless Chromium: runs a round from opening to resolution, previews its payouts
before resolving, audits the ledger, manages accounts and keys."""

from __future__ import annotations

from decimal import Decimal

import httpx
import numpy as np
import pandas as pd
import pytest

from kardashev.api.convert import tokens
from tests.api.conftest import classic_frame
from tests.api.web.conftest import HORIZON, XSS_NAME, write_csv

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


def _closed_round(season, *, days: int) -> int:
    """A new closed round staked on by alice_one, bob_one and the script-named model, ``days`` scored."""
    live, service = season.live, season.live.context.service
    number = max(r.number for r in service.list_rounds()) + 1
    service.open_round(number, universe=season.ids, close_time=live.clock() + pd.Timedelta(minutes=5),
                       now=live.clock(), horizon_days=HORIZON)  # fmt: skip
    for seed, model in enumerate(("alice_one", "bob_one", "xss")):
        frame = classic_frame(season.ids, seed=700 + 10 * number + seed)
        service.submit(season.models[model], number, frame, now=live.clock())
    live.clock.advance(hours=1)
    service.close_round(number, now=live.clock())
    for day in range(1, days + 1):
        service.score_round(number, _frame_day(season.ids, day, number), now=live.clock())
    live.clock.advance(days=HORIZON + 1)
    return number


def _frame_day(ids: list[str], day: int, number: int):
    from kardashev.api.web.operator import read_round_day

    return read_round_day(_day_frame(ids, 50 * number + day, returns=day == HORIZON), day)


def _preview_rows(tab) -> dict[int, list[str]]:
    rows = tab.page.eval_on_selector_all(
        "#preview tbody tr",
        "rows => rows.map(r => [r.dataset.model, ...Array.from(r.cells).map(c => c.textContent)])",
    )
    return {int(row[0]): row[1:] for row in rows}


def _assert_page_equals_dry_run(tab, season, number: int, day_file=None) -> dict:
    if day_file is None:
        api = _admin(season, "POST", f"/v1/admin/rounds/{number}/resolve/dry-run")
    else:
        frame = pd.read_csv(day_file)
        body = {
            "day": HORIZON,
            "ids": frame["id"].tolist(),
            "target": frame["target"].tolist(),
            "realized_returns": frame["realized_return"].tolist(),
            "exposures": frame[["exposure_0", "exposure_1"]].to_numpy().tolist(),
            "features": frame[["feature_0", "feature_1", "feature_2"]].to_numpy().tolist(),
        }
        api = _admin(season, "POST", f"/v1/admin/rounds/{number}/resolve/dry-run", json=body)
    assert api.status_code == 200, api.text
    preview = api.json()
    assert preview["already_resolved"] is False and len(preview["payouts"]) == 3
    assert any(Decimal(p["amount"]) != 0 for p in preview["payouts"])  # a preview with something in it
    names = {v: k for k, v in season.models.items()}
    rows = _preview_rows(tab)
    assert sorted(rows) == sorted(p["model_id"] for p in preview["payouts"])
    for p in preview["payouts"]:
        name, stake, fraction, paid, burned = rows[p["model_id"]]
        assert name == (XSS_NAME if names[p["model_id"]] == "xss" else names[p["model_id"]])
        assert stake == p["stake"]
        assert float(fraction) == pytest.approx(p["payout_fraction"], abs=5e-5)
        amount = Decimal(p["amount"])
        assert (paid, burned) == (
            p["amount"] if amount > 0 else "–",
            p["amount"][1:] if amount < 0 else "–",
        )
    assert tab.page.text_content("#preview-minted") == preview["total_minted"]
    assert tab.page.text_content("#preview-burned") == preview["total_burned"]
    assert tab.page.text_content("#preview-net") == preview["net"]
    assert tab.page.evaluate("window.__xss") is None  # the model's name was shown, not run
    return preview


def test_operator_previews_payouts_then_resolves_exactly_them(season, tab) -> None:
    service = season.live.context.service
    number = _closed_round(season, days=HORIZON)
    audit = _admin(season, "GET", "/v1/admin/ledger/audit").json()
    tab.sign_in(season.keys["operator"])
    _row(tab, number).locator("a.preview-link").click()
    tab.page.wait_for_load_state("load")
    assert tab.page.url.endswith(f"/operator/rounds/{number}")
    assert tab.page.locator("#preview").count() == 0
    tab.page.click("#preview-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("#preview-note") == "Preview only: nothing was written."
    preview = _assert_page_equals_dry_run(tab, season, number)
    # nothing was written: the same audit, the round still closed, no payout stored
    assert _admin(season, "GET", "/v1/admin/ledger/audit").json() == audit
    assert _admin(season, "GET", f"/v1/rounds/{number}").json()["status"] == "closed"
    assert service.payouts(round_number=number) == []

    tab.page.click("#resolve-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("p.notice").startswith("Round resolved")
    assert _admin(season, "GET", f"/v1/rounds/{number}").json()["status"] == "resolved"
    made = {p.model_id: (tokens(p.stake), tokens(p.amount)) for p in service.payouts(round_number=number)}
    assert made == {p["model_id"]: (p["stake"], p["amount"]) for p in preview["payouts"]}
    after = _admin(season, "GET", "/v1/admin/ledger/audit").json()
    assert after["ok"] is True
    assert Decimal(after["minted"]) - Decimal(audit["minted"]) == Decimal(preview["total_minted"])
    assert Decimal(after["burned"]) - Decimal(audit["burned"]) == Decimal(preview["total_burned"])
    assert tab.errors == []


def test_a_final_day_is_previewed_with_its_file_and_nothing_is_scored(season, tab, tmp_path) -> None:
    service = season.live.context.service
    number = _closed_round(season, days=HORIZON - 1)
    # six decimals: the browser's file and the API's JSON are parsed to the same floats
    day_file = write_csv(tmp_path, "final.csv", _day_frame(season.ids, 4242, returns=True).round(6))
    audit = _admin(season, "GET", "/v1/admin/ledger/audit").json()
    tab.sign_in(season.keys["operator"])
    tab.open(f"/operator/rounds/{number}")
    tab.page.set_input_files("#preview-form input[type=file]", str(day_file))
    tab.page.click("#preview-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    preview = _assert_page_equals_dry_run(tab, season, number, day_file)
    assert _admin(season, "GET", "/v1/admin/ledger/audit").json() == audit
    state = _admin(season, "GET", f"/v1/rounds/{number}").json()
    assert (state["status"], state["days_scored"]) == ("closed", HORIZON - 1)
    assert service.scores(round_number=number, day=HORIZON) == []

    tab.page.set_input_files("#resolve-form input[type=file]", str(day_file))
    tab.page.click("#resolve-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert _admin(season, "GET", f"/v1/rounds/{number}").json()["status"] == "resolved"
    made = {p.model_id: tokens(p.amount) for p in service.payouts(round_number=number)}
    assert made == {p["model_id"]: p["amount"] for p in preview["payouts"]}
    assert tab.errors == []
