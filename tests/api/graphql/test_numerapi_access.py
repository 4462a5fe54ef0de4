"""The REST API's authorization matrix, repeated through numerapi: no key, wrong secret, missing scope and
another account's model. Every refusal is a ValueError numerapi raises with the server's message, and
changes nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import classic_frame, universe
from tests.api.graphql.conftest import VALIDATION_IDS

# (name, scope needed, call) — each call is made with ``api`` (a NumerAPI) and ``ids`` (model ids)
CALLS = {
    "get_account": ("read", lambda api, ids: api.get_account()),
    "get_models": ("read", lambda api, ids: api.get_models()),
    "modelid_to_modelname": ("read", lambda api, ids: api.modelid_to_modelname(ids["alice_one"])),
    "submission_ids": ("read", lambda api, ids: api.submission_ids(ids["alice_one"])),
    "pending_model_payouts": ("read", lambda api, ids: api.pending_model_payouts()),
    "wallet_transactions": ("read", lambda api, ids: api.wallet_transactions()),
    "diagnostics": ("read", lambda api, ids: api.diagnostics(ids["alice_one"])),
    "upload_predictions": (
        "upload",
        lambda api, ids: api.upload_predictions(df=classic_frame(universe(), 1), model_id=ids["alice_one"]),
    ),
    "upload_diagnostics": (
        "upload",
        lambda api, ids: api.upload_diagnostics(
            df=classic_frame(VALIDATION_IDS, 1), model_id=ids["alice_one"]
        ),
    ),
    "stake_increase": ("stake", lambda api, ids: api.stake_increase("1", ids["alice_one"])),
    "stake_decrease": ("stake", lambda api, ids: api.stake_decrease("1", ids["alice_one"])),
    "stake_drain": ("stake", lambda api, ids: api.stake_drain(ids["alice_one"])),
}

# The same private operations as raw GraphQL, sent without any key (numerapi itself refuses to send them).
PRIVATE_QUERIES = {
    "account": ("query { account { username } }", {}),
    "model": ("query($m: String!) { model(modelId: $m) { name } }", {"m": "alice_one"}),
    "submissions": ("query($m: String) { submissions(modelId: $m) { id } }", {"m": "alice_one"}),
    "upload_auth": (
        'query { submission_upload_auth(filename: "p.csv", tournament: 8, modelId: "alice_one") { url } }',
        {},
    ),
    "download_auth": ('query { submissionDownloadAuth(id: "1") { url } }', {}),
    "wallet_txns": ("query { account { walletTxns { amount from to } } }", {}),
    "payouts": ("query { pendingModelPayouts(tournament: 8) { actual { roundNumber } } }", {}),
    "change_stake": (
        'mutation { v2ChangeStake(value: "1", type: "increase", modelId: "alice_one", tournamentNumber: 8)'
        " { status } }",
        {},
    ),
    "create_submission": ('mutation { create_submission(filename: "x/p.csv", tournament: 8) { id } }', {}),
}


def _state(season) -> tuple:
    """What a refused call must not change: alice's submissions, stake and wallet."""
    return (
        season.rest("alice", "GET", "/v1/models/alice_one/submissions"),
        season.rest("alice", "GET", "/v1/models/alice_one/stake"),
        season.rest("alice", "GET", "/v1/account")["wallet_balance"],
    )


@pytest.mark.parametrize("name", sorted(PRIVATE_QUERIES))
def test_without_a_key_private_operations_are_refused(season, name):
    query, variables = PRIVATE_QUERIES[name]
    anonymous = season.classic("alice", public_id=None, secret_key=None)
    anonymous.token = None
    with pytest.raises(ValueError, match="missing credentials"):
        anonymous.raw_query(query, variables)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_numerapi_without_keys_refuses_before_sending(season, name):
    _, call = CALLS[name]
    api = season.classic("alice", public_id=None, secret_key=None)
    api.token = None
    with pytest.raises(ValueError, match="API keys required"):
        call(api, season.model_ids)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrong_secret_is_refused(season, name):
    _, call = CALLS[name]
    before = _state(season)
    for public_id in (season.keys["alice"].public_id, "kdk_unknownunknownunkn"):
        api = season.classic("alice", public_id=public_id, secret_key="not-the-secret")
        with pytest.raises(ValueError, match="invalid API key"):
            call(api, season.model_ids)
    assert _state(season) == before


@pytest.mark.parametrize("name", sorted(CALLS))
def test_key_without_the_scope_is_refused(season, name):
    scope, call = CALLS[name]
    before = _state(season)
    for other_scope in ("read", "upload", "stake"):
        if other_scope == scope:
            continue
        api = season.classic(f"alice_{other_scope}")
        with pytest.raises(ValueError, match=f"lacks the '{scope}' scope"):
            call(api, season.model_ids)
    assert _state(season) == before


OWN_MODEL_CALLS = sorted(
    set(CALLS) - {"get_account", "get_models", "pending_model_payouts", "wallet_transactions"}
)


@pytest.mark.parametrize("name", OWN_MODEL_CALLS)
def test_another_accounts_model_looks_missing(season, name):
    _, call = CALLS[name]
    before = _state(season)
    with pytest.raises(ValueError, match="your account has no model"):
        call(season.classic("bob"), season.model_ids)
    assert _state(season) == before


def test_another_accounts_submission_and_upload_look_missing(season, tmp_path):
    alice, bob = season.classic("alice"), season.classic("bob")
    submission_id = alice.submission_ids(season.model_ids["alice_one"])[0]["id"]
    with pytest.raises(ValueError, match="you have no submission"):
        bob.download_submission(submission_id=submission_id, dest_path=str(tmp_path / "x.csv"))
    # an upload slot issued to alice cannot be used by bob's key
    auth = alice.raw_query(
        'query { submission_upload_auth(filename: "p.csv", tournament: 8, modelId: "alice_one") '
        "{ filename url } }",
        authorization=True,
    )["data"]["submission_upload_auth"]
    with pytest.raises(ValueError, match="no such upload"):
        bob.raw_query(
            "mutation($f: String!) { create_submission(filename: $f, tournament: 8) { id } }",
            {"f": auth["filename"]},
            authorization=True,
        )


def test_revoked_key_is_refused(season):
    key = season.live.new_key(int(season.rest("alice", "GET", "/v1/account")["id"]), ["read"])
    api = season.classic("alice", public_id=key.public_id, secret_key=key.secret)
    assert api.get_account()["username"] == "alice"
    response = season.live.http("DELETE", f"/v1/admin/keys/{key.public_id}", key=season.live.admin_key)
    assert response.status_code == 200
    with pytest.raises(ValueError, match="revoked"):
        api.get_account()


def test_errors_carry_the_rest_codes(season):
    response = season.live.http(
        "POST",
        "/graphql",
        json={"query": "query { account { username } }"},
        headers={"Authorization": f"Token {season.keys['alice'].public_id}$wrong"},
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": "invalid_credentials",
        "type": "AuthenticationError",
        "status": 401,
    }
    assert response.json()["data"] is None
