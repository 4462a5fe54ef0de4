"""Attacks on the web pages: another account's models, forged or tampered sessions, cross-site forms,
missing scopes, script injection through names and addresses, private data on public pages."""

from __future__ import annotations

import re

import httpx
import pytest

from kardashev.api.web.session import ANON_COOKIE, SESSION_COOKIE
from tests.api.conftest import classic_csv

pytestmark = pytest.mark.slow
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browserless:
    """A signed-in httpx client sending the session cookie by hand (httpx keeps Secure cookies for https)."""

    def __init__(self, season, key: str | None) -> None:
        self.url = season.url
        self.cookies: dict[str, str] = {}
        if key is None:
            return
        page = self.get("/signin")
        self.cookies[ANON_COOKIE] = page.cookies[ANON_COOKIE]
        signed = self.post(
            "/signin", {"csrf": _CSRF.search(page.text).group(1), "api_key": season.keys[key].token}
        )
        assert signed.status_code == 303, signed.text
        self.cookies = {SESSION_COOKIE: signed.cookies[SESSION_COOKIE]}
        self.csrf = _CSRF.search(self.get("/me").text).group(1)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, "Origin": self.url, **(extra or {})}

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, data=None, **kwargs) -> httpx.Response:
        headers = self._headers(kwargs.pop("headers", None))
        return httpx.post(self.url + path, data=data, headers=headers, **kwargs)


def _stake(season, model: str) -> int:
    return season.live.context.service.stake(season.models[model]).total


def test_another_accounts_model_is_not_found(season) -> None:
    alice = Browserless(season, "alice")
    bob_model = season.models["bob_one"]
    before = _stake(season, "bob_one")
    assert alice.get(f"/me/models/{bob_model}").status_code == 404
    stake = alice.post(
        f"/me/models/{bob_model}/stake",
        {"csrf": alice.csrf, "direction": "decrease", "amount": "1", "idempotency_key": "x" * 20},
    )
    assert stake.status_code == 404 and "your account has no model" in stake.text
    upload = alice.post(
        f"/me/models/{bob_model}/submissions",
        {"csrf": alice.csrf, "round_number": str(season.current)},
        files={"file": ("p.csv", classic_csv(season.ids, seed=1), "text/csv")},
    )
    assert upload.status_code == 404
    assert _stake(season, "bob_one") == before
    assert season.live.context.service.list_submissions(round_number=season.current, model=bob_model) == []


def test_forms_without_the_sessions_csrf_token_or_from_another_origin_are_refused(season) -> None:
    alice = Browserless(season, "alice")
    path = f"/me/models/{season.models['alice_one']}/stake"
    before = _stake(season, "alice_one")
    form = {"direction": "increase", "amount": "1", "idempotency_key": "y" * 20}
    for data, headers in (
        (form, None),
        ({**form, "csrf": "0" * 64}, None),
        ({**form, "csrf": Browserless(season, "bob").csrf}, None),  # another session's token
        ({**form, "csrf": alice.csrf}, {"Origin": "http://evil.test"}),
        ({**form, "csrf": alice.csrf}, {"Origin": "null"}),
    ):
        refused = alice.post(path, data, headers=headers)
        assert refused.status_code == 403 and 'data-code="csrf_failed"' in refused.text
    assert _stake(season, "alice_one") == before
    # the sign-in form has its own double-submit token
    anonymous = Browserless(season, None)
    assert anonymous.post("/signin", {"api_key": season.keys["alice"].token}).status_code == 403


def test_a_cross_site_form_in_the_browser_reaches_nobody(season, browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{season.url}/signin")
    page.fill("#api_key", season.keys["alice"].token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_load_state("load")
    model_id = season.models["alice_one"]
    csrf = page.get_attribute("header form input[name=csrf]", "value")
    attack = f"""<form id=f method=post action="{season.url}/me/models/{model_id}/stake">
      <input name=csrf value="{csrf}"><input name=direction value=decrease><input name=amount value=5>
      <input name=idempotency_key value="{"z" * 20}"></form>
      <script>document.getElementById('f').submit()</script>"""
    context.route("http://evil.test/**", lambda route: route.fulfill(body=attack, content_type="text/html"))
    before = _stake(season, "alice_one")
    with page.expect_navigation(url=re.compile(r".*/stake$")) as navigation:
        page.goto("http://evil.test/")
    # even with a stolen token: the SameSite=Strict cookie stays home and the Origin is foreign
    assert navigation.value.status in (401, 403)
    assert _stake(season, "alice_one") == before
    context.close()


def test_tampered_expired_or_revoked_sessions_are_signed_out(season) -> None:
    alice = Browserless(season, "alice")
    cookie = alice.cookies[SESSION_COOKIE]
    assert alice.get("/me").status_code == 200
    _, signed = cookie.split(".", 1)
    bob_key = season.keys["bob"].public_id
    for forged in (
        cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"),
        f"{bob_key}.{signed}",
        "x",
        "",
    ):
        alice.cookies[SESSION_COOKIE] = forged
        assert alice.get("/me").status_code == 401
    # revoking the key ends its sessions at once
    service, clock = season.live.context.service, season.live.clock
    victim = season.live.new_key("alice", ["read"])
    season.keys["victim"] = victim
    session = Browserless(season, "victim")
    assert session.get("/me").status_code == 200
    service.revoke_api_key(victim.public_id, now=clock())
    assert session.get("/me").status_code == 401


def test_scopes_limit_what_the_pages_do(season) -> None:
    reader = Browserless(season, "reader")  # bob's read-only key
    model_id = season.models["bob_one"]
    assert reader.get(f"/me/models/{model_id}").status_code == 200
    before = _stake(season, "bob_one")
    refused = reader.post(
        f"/me/models/{model_id}/stake", {"csrf": reader.csrf, "direction": "increase", "amount": "1"}
    )
    assert refused.status_code == 403 and 'data-code="missing_scope"' in refused.text
    assert _stake(season, "bob_one") == before
    assert "stake-form" not in reader.get(f"/me/models/{model_id}").text
    assert Browserless(season, "alice").get("/operator").status_code == 403
    anonymous = Browserless(season, None)
    for path in ("/operator", "/operator/accounts", "/operator/audit", "/me", "/me/diagnostics"):
        assert anonymous.get(path).status_code == 401, path


def test_only_an_operator_reaches_the_payout_preview(season) -> None:
    number = season.resolved[-1]
    page, preview = f"/operator/rounds/{number}", f"/operator/rounds/{number}/preview"
    for who in ("alice", "reader"):
        visitor = Browserless(season, who)
        assert visitor.get(page).status_code == 403, who
        refused = visitor.post(preview, {"csrf": visitor.csrf})
        assert refused.status_code == 403 and 'data-code="missing_scope"' in refused.text, who
        assert 'id="preview"' not in refused.text
    anonymous = Browserless(season, None)
    assert anonymous.get(page).status_code == 401
    assert anonymous.post(preview, {}).status_code in (401, 403)
    operator = Browserless(season, "operator")
    assert operator.post(preview, {}).status_code == 403  # no CSRF token
    shown = operator.post(preview, {"csrf": operator.csrf})
    assert shown.status_code == 200 and 'id="preview"' in shown.text


def test_addresses_and_names_cannot_inject_script(season, tab) -> None:
    for path in (
        "/models/%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E",
        "/?sort=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E&window=%22%3E%3Cscript%3E",
        "/models/%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D2%3E",
    ):
        tab.open(path)
        assert tab.page.evaluate("window.__xss") is None, path
        assert tab.page.locator("main script, main img").count() == 0, path
    tab.sign_in(season.keys["mallory"])
    tab.open(f"/me/models/{season.models['xss']}")
    assert tab.page.evaluate("window.__xss") is None
    assert tab.page.locator("main script, main img").count() == 0


def test_public_pages_show_no_private_data(season) -> None:
    service, clock = season.live.context.service, season.live.clock
    service.submit(season.models["alice_one"], season.current, classic_csv(season.ids, seed=77), now=clock())
    anonymous = Browserless(season, None)
    bob = Browserless(season, "bob")
    paths = ["/", "/rounds", f"/rounds/{season.current}", "/downloads"]
    paths += [f"/models/{model_id}" for model_id in season.models.values()]
    secrets_ = [key.secret for key in season.keys.values()] + [key.public_id for key in season.keys.values()]
    for client in (anonymous, bob):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200
            html = response.text
            assert not any(secret in html for secret in secrets_), path
            assert "Wallet" not in html and "wallet" not in html, path
    # alice's open-round submission appears on no public page, not even as a score row
    alice_page = bob.get(f"/models/{season.models['alice_one']}").text
    assert f">{season.current}</a></td>" not in alice_page
    assert "Your view of this model" not in alice_page


def test_pages_send_security_headers(season) -> None:
    alice = Browserless(season, "alice")
    response = alice.get("/me")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert (
        "'unsafe-inline'"
        not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )


def test_an_expired_session_is_signed_out(season, monkeypatch) -> None:
    from kardashev.api.web import session as web_session

    alice = Browserless(season, "alice")
    assert alice.get("/me").status_code == 200
    monkeypatch.setattr(web_session, "SESSION_MAX_AGE", -1)  # every signature is now older than allowed
    assert alice.get("/me").status_code == 401
