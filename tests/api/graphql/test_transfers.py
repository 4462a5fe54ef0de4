"""Signed transfer URLs and the GraphQL endpoint's own checks, over HTTP against the live server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from kardashev.api.graphql.files import UrlSigner, load_url_key
from tests.api.conftest import classic_csv, universe

AUTH_QUERY = (
    'query($m: String) { submission_upload_auth(filename: "p.csv", tournament: 8, modelId: $m) '
    "{ filename url } }"
)
CREATE = (
    'mutation($f: String!) { create_submission(filename: $f, tournament: 8, modelId: "alice_one") { id } }'
)


def _graphql(season, query: str, variables: dict | None = None, who: str | None = "alice") -> dict:
    response = season.live.http(
        "POST",
        "/graphql",
        json={"query": query, "variables": variables},
        key=season.keys[who] if who else None,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _upload_auth(season) -> dict:
    return _graphql(season, AUTH_QUERY, {"m": "alice_one"})["data"]["submission_upload_auth"]


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_an_upload_url_takes_one_file_once(season):
    auth = _upload_auth(season)
    data = classic_csv(universe(), seed=3)
    assert httpx.put(auth["url"], content=data).status_code == 200
    _error(httpx.put(auth["url"], content=data), 409, "upload_used")
    created = _graphql(season, CREATE, {"f": auth["filename"]})
    assert created["data"]["create_submission"]["id"]
    again = _graphql(season, CREATE, {"f": auth["filename"]})
    assert again["errors"][0]["extensions"]["code"] == "upload_not_found"
    _error(httpx.put(auth["url"], content=data), 404, "upload_not_found")


def test_creating_without_uploading_is_a_clear_error(season):
    auth = _upload_auth(season)
    result = _graphql(season, CREATE, {"f": auth["filename"]})
    assert result["data"] is None
    assert "no file was uploaded" in result["errors"][0]["message"]


def test_signatures_and_expiry_are_checked(season):
    auth = _upload_auth(season)
    data = classic_csv(universe(), seed=4)
    base, _, query = auth["url"].partition("?")
    _error(httpx.put(base, content=data), 403, "invalid_signature")
    tampered = auth["url"][:-4] + ("0000" if not auth["url"].endswith("0000") else "1111")
    _error(httpx.put(tampered, content=data), 403, "invalid_signature")
    other_token = base[:-3] + "abc"
    _error(httpx.put(f"{other_token}?{query}", content=data), 403, "invalid_signature")
    settings = season.live.context.settings
    signer = UrlSigner(load_url_key(Path(settings.data_dir), settings.key_pepper))
    path = base.removeprefix(season.live.base_url)
    expired = signer.sign(path, expires=season.live.clock() - dt.timedelta(seconds=1))
    _error(httpx.put(season.live.base_url + expired, content=data), 403, "url_expired")
    download = signer.sign(
        "/graphql/files/datasets/v1/train.parquet", expires=season.live.clock() - dt.timedelta(1)
    )
    _error(httpx.get(season.live.base_url + download), 403, "url_expired")


def test_the_body_limit_applies_to_the_put(season):
    auth = _upload_auth(season)
    limit = season.live.context.settings.max_upload_bytes
    _error(httpx.put(auth["url"], content=b"x" * (limit + 1)), 413, "payload_too_large")
    _error(httpx.put(auth["url"], content=b""), 422, "empty_file")
    assert "no file was uploaded" in _graphql(season, CREATE, {"f": auth["filename"]})["errors"][0]["message"]


def test_an_upload_of_another_tournament_or_model_is_refused(season):
    auth = _upload_auth(season)
    assert httpx.put(auth["url"], content=classic_csv(universe(), seed=5)).status_code == 200
    mismatch = CREATE.replace('modelId: "alice_one"', 'modelId: "alice_two"')
    assert _graphql(season, mismatch, {"f": auth["filename"]})["errors"][0]["extensions"]["code"] == (
        "upload_model_mismatch"
    )


def test_download_urls_are_signed(season):
    url = _graphql(season, 'query { dataset(filename: "v1/features.json", tournament: 8) }', who=None)
    url = url["data"]["dataset"]
    assert httpx.get(url).status_code == 200
    _error(httpx.get(url.replace("features.json", "train.parquet")), 403, "invalid_signature")
    _error(httpx.get(url.partition("?")[0]), 403, "invalid_signature")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "'query' string"),
        (b'{"query": 3}', "'query' string"),
        (b'{"query": "{ serverTime }", "variables": [1]}', "'variables'"),
    ],
)
def test_malformed_requests_get_the_rest_envelope(season, body, message):
    response = season.live.http(
        "POST", "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    _error(response, 400, "malformed_request")
    assert message in response.json()["error"]["message"]


def test_hostile_and_invalid_queries_are_cheap_errors(season):
    deep = "query { account { models { submissions { round { number } } } } }"
    assert "errors" not in _graphql(season, deep)
    aliases = "query { " + " ".join(f"a{i}: serverTime" for i in range(50)) + " }"
    assert "aliases" in _graphql(season, aliases)["errors"][0]["message"]
    tokens = "query { serverTime " + "__typename " * 3000 + "}"
    assert "token" in _graphql(season, tokens)["errors"][0]["message"].lower()
    unknown = _graphql(season, "query { walletTxns { amount } }")
    assert "Cannot query field 'walletTxns'" in unknown["errors"][0]["message"]
    limit = season.live.context.settings.max_upload_bytes
    big = season.live.http(
        "POST", "/graphql", content=b"x" * (limit + 1), headers={"Content-Type": "application/json"}
    )
    _error(big, 413, "payload_too_large")
