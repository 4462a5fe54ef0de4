"""A participant in headless Chromium: signs in with a key, uploads, changes a stake, runs diagnostics."""

from __future__ import annotations

from decimal import Decimal

import httpx
import numpy as np
import pandas as pd
import pytest

from kardashev.api.web.render import fmt_number
from tests.api.conftest import classic_frame
from tests.api.web.conftest import write_csv

pytestmark = pytest.mark.slow


def _api(season, path: str, key: str = "alice", **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Token {season.keys[key].token}", **kwargs.pop("headers", {})}
    return httpx.request(
        kwargs.pop("method", "GET"), season.url + path, headers=headers, timeout=60, **kwargs
    )


def test_sign_in_sets_a_secure_http_only_same_site_cookie(season, tab) -> None:
    tab.open("/signin")
    tab.page.fill("#api_key", season.keys["alice"].public_id + "$wrong-secret")
    tab.page.click("#signin-form button[type=submit]")
    assert tab.page.text_content("#signin-error") == "invalid API key"
    assert not [c for c in tab.context.cookies() if c["name"] == "kardashev_session"]

    tab.sign_in(season.keys["alice"])
    assert tab.page.url.endswith("/me?done=signed-in")
    (cookie,) = [c for c in tab.context.cookies() if c["name"] == "kardashev_session"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert season.keys["alice"].secret not in cookie["value"]  # the secret never leaves the sign-in form
    assert "kardashev_session" not in tab.page.evaluate("document.cookie")
    assert tab.page.text_content("#wallet") == _api(season, "/v1/account").json()["wallet_balance"]
    names = tab.page.eval_on_selector_all(
        "#my-models tbody tr td:first-child", "c => c.map(x => x.textContent)"
    )
    assert names == ["alice_one", "alice_two"]
    assert tab.errors == []


def test_upload_predictions_and_see_the_submission(season, tab, tmp_path) -> None:
    model_id = season.models["alice_two"]
    tab.sign_in(season.keys["alice"])
    tab.open(f"/me/models/{model_id}")
    path = write_csv(tmp_path, "alice_two_live.csv", classic_frame(season.ids, seed=4242))
    tab.page.select_option("#round_number", str(season.current))
    tab.page.set_input_files("#file", str(path))
    tab.page.click("#upload-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert "done=upload" in tab.page.url
    assert tab.page.text_content("p.notice") == "Predictions accepted and stored."
    first = tab.page.eval_on_selector(
        "#submissions tbody tr", "r => Array.from(r.cells).map(c => c.textContent)"
    )
    assert first[0] == str(season.current) and first[2] == "alice_two_live.csv"
    stored = _api(season, f"/v1/models/alice_two/submissions?round_number={season.current}").json()
    assert len(stored) == 1 and stored[0]["filename"] == "alice_two_live.csv"
    assert first[5] == stored[0]["checksum"][:12]

    # a file breaking a rule is refused with the rule named, and nothing is stored
    bad = classic_frame(season.ids, seed=1)
    bad.loc[1, "id"] = bad.loc[0, "id"]
    tab.open(f"/me/models/{model_id}")
    tab.page.set_input_files("#file", str(write_csv(tmp_path, "bad.csv", bad)))
    with tab.page.expect_navigation() as navigation:
        tab.page.click("#upload-form button[type=submit]")
    assert navigation.value.status == 422
    assert tab.page.get_attribute("p.error", "data-code") == "duplicate_ids"
    assert "more than once" in tab.page.text_content("p.error")
    again = _api(season, f"/v1/models/alice_two/submissions?round_number={season.current}").json()
    assert again == stored


def test_stake_change_is_applied_once_and_seen(season, tab) -> None:
    model_id = season.models["alice_one"]
    before = _api(season, "/v1/models/alice_one/stake").json()
    tab.sign_in(season.keys["alice"])
    tab.open(f"/me/models/{model_id}")
    tab.page.select_option("#direction", "increase")
    tab.page.fill("#amount", "2.5")
    form = {
        name: tab.page.get_attribute(f"#stake-form input[name={name}]", "value")
        for name in ("csrf", "idempotency_key")
    }
    tab.page.click("#stake-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    after = _api(season, "/v1/models/alice_one/stake").json()
    assert Decimal(after["stake"]) == Decimal(before["stake"]) + Decimal("2.5")
    assert Decimal(after["wallet_balance"]) == Decimal(before["wallet_balance"]) - Decimal("2.5")
    assert tab.page.text_content("#stake-total") == after["stake"]
    assert tab.page.text_content("#wallet") == after["wallet_balance"]
    # the same form sent again (a double click, a reload): the service's idempotency key makes it a no-op
    repeat = tab.page.request.post(
        f"/me/models/{model_id}/stake",
        form={**form, "direction": "increase", "amount": "2.5"},
        headers={"Origin": season.url},
    )
    assert repeat.status == 200
    assert _api(season, "/v1/models/alice_one/stake").json()["stake"] == after["stake"]
    # the API's checks: an amount with 7 decimals, and more than the wallet holds
    for amount, status in (("0.0000001", 422), ("100000", 409)):
        tab.open(f"/me/models/{model_id}")
        tab.page.fill("#amount", amount)
        with tab.page.expect_navigation() as navigation:
            tab.page.click("#stake-form button[type=submit]")
        assert navigation.value.status == status, amount
    assert _api(season, "/v1/models/alice_one/stake").json()["stake"] == after["stake"]


def test_diagnostics_page_matches_the_api(season, tab, tmp_path) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"id": season.validation_ids, "prediction": rng.uniform(0, 1, len(season.validation_ids))}
    )
    path = write_csv(tmp_path, "validation_predictions.csv", frame)
    tab.sign_in(season.keys["alice"])
    tab.open("/me/diagnostics")
    tab.page.set_input_files("#file", str(path))
    tab.page.click("#diagnostics-form button[type=submit]")
    tab.page.wait_for_load_state("load")
    tab.page.wait_for_function("document.querySelectorAll('div.chart .main-svg').length >= 3")
    api = _api(
        season,
        "/v1/models/alice_one/diagnostics",
        method="POST",
        content=path.read_bytes(),
        headers={"Content-Type": "text/csv"},
    ).json()
    shown = dict(
        tab.page.eval_on_selector_all(
            "#diagnostics-summary tbody tr",
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])",
        )
    )
    assert set(shown) == set(api["metrics"])
    assert all(shown[name] == fmt_number(value) for name, value in api["metrics"].items())
    # per-era bars: one bar per era for CORR and FNC
    bars = tab.page.locator("#chart-era g.point").count()
    assert bars == 2 * api["n_eras"]
    exposure = [
        name for name in ("feature_exposure_max", "feature_exposure_rms") if name in api["per_era"][0]
    ]
    assert exposure  # the validation data has features
    assert tab.page.locator("#chart-exposure g.point").count() == len(exposure) * api["n_eras"]
    assert tab.errors == []


def test_create_a_model_and_sign_out(season, tab) -> None:
    tab.sign_in(season.keys["bob"])
    tab.page.fill("#new-model input[name=name]", "bob_two")
    tab.page.click("#new-model button[type=submit]")
    tab.page.wait_for_load_state("load")
    assert tab.page.text_content("h1") == "bob_two"
    assert "bob_two" in [m["name"] for m in _api(season, "/v1/models", key="bob").json()]
    tab.page.click("header form button")
    tab.page.wait_for_load_state("load")
    assert not [c for c in tab.context.cookies() if c["name"] == "kardashev_session"]
    assert tab.open("/me").status == 401


def test_diagnostics_of_a_bad_file_names_the_rule_and_keeps_the_form(season, tab, tmp_path) -> None:
    frame = pd.DataFrame({"id": season.validation_ids[:-5], "prediction": 0.5 + 0.001 * np.arange(235)})
    tab.sign_in(season.keys["alice"])
    tab.open("/me/diagnostics")
    tab.page.set_input_files("#file", str(write_csv(tmp_path, "short.csv", frame)))
    with tab.page.expect_navigation() as navigation:
        tab.page.click("#diagnostics-form button[type=submit]")
    assert navigation.value.status == 422
    assert "have no prediction" in tab.page.text_content("#diagnostics-error")
    assert tab.page.locator("#diagnostics-form").count() == 1
    assert tab.page.locator("#diagnostics-summary").count() == 0
