"""Upload input handling: size limit, media types, file formats and every submission rule, over HTTP.

A rejected upload gets a 4xx with a specific code and stores nothing (no submission row, no blob file).
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from tests.api.conftest import classic_csv, classic_frame, universe

TICKERS = [f"T{i:03d} US" for i in range(150)]


@pytest.fixture(scope="module")
def setup(live):
    service, now = live.context.service, live.clock()
    account = service.create_account("uploader", now=now)
    key = live.new_key(account.id, ["read", "upload"])
    service.create_model(account.id, "up_model", now=now)
    service.create_model(account.id, "late_model", now=now)
    classic = service.open_round(
        1, universe=universe(), close_time=now + dt.timedelta(hours=1), now=now, horizon_days=2
    )
    signals = service.open_round(
        2,
        universe=TICKERS,
        close_time=now + dt.timedelta(hours=1),
        now=now,
        horizon_days=2,
        kind="signals",
    )
    return {"key": key, "classic": classic.number, "signals": signals.number}


def _blob_files(live) -> list:
    root = live.data_dir / "data"
    return sorted(
        p for p in root.rglob("*") if p.is_file() and "validation" not in p.parts and p.suffix != ".db"
    )


def _post(live, setup, content, *, content_type="text/csv", model="up_model", round_number=None, **kwargs):
    number = setup["classic"] if round_number is None else round_number
    headers = {"Content-Type": content_type} if content_type else {}
    return live.http(
        "POST",
        f"/v1/models/{model}/submissions?round_number={number}",
        key=setup["key"],
        content=content,
        headers=headers,
        **kwargs,
    )


def _rejected(live, setup, response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return error


@pytest.fixture
def nothing_stored(live):
    """Asserts that the test body stored no submission and no blob."""
    service = live.context.service
    before = (len(service.list_submissions()), _blob_files(live))
    yield
    assert (len(service.list_submissions()), _blob_files(live)) == before


def _csv_text(ids, values, header="id,prediction"):
    return (header + "\n" + "".join(f"{i},{v}\n" for i, v in zip(ids, values, strict=True))).encode()


IDS = universe()
GOOD = np.linspace(0.1, 0.9, len(IDS))
RULES = [
    ("wrong_headers", _csv_text(IDS, GOOD, header="id,pred")),
    ("wrong_headers", _csv_text(IDS, GOOD, header="identifier,prediction")),
    ("missing_ids", _csv_text(IDS[:-3], GOOD[:-3])),
    ("unknown_ids", _csv_text([*IDS, "zzz"], [*GOOD, 0.5])),
    ("duplicate_ids", _csv_text([*IDS, IDS[0]], [*GOOD, 0.5])),
    ("nan_values", _csv_text(IDS, ["nan", *GOOD[1:]])),
    ("nan_values", _csv_text(IDS, ["", *GOOD[1:]])),
    ("out_of_range", _csv_text(IDS, [1.5, *GOOD[1:]])),
    ("out_of_range", _csv_text(IDS, [-0.1, *GOOD[1:]])),
    ("non_numeric_values", _csv_text(IDS, ["high", *GOOD[1:]])),
    ("constant_predictions", _csv_text(IDS, [0.5] * len(IDS))),
    ("empty_file", b"id,prediction\n"),
    ("unreadable_file", b"\x00\x01\x02garbage"),
]


@pytest.mark.parametrize(("code", "content"), RULES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(RULES)])
def test_each_rule_has_its_code(live, setup, nothing_stored, code, content):
    error = _rejected(live, setup, _post(live, setup, content), 422, code)
    assert error["type"] == "SubmissionError"


def test_size_limit_by_content_length(live, setup, nothing_stored):
    big = b"id,prediction\n" + b"n0000,0.5\n" * 10_000  # ~100 KB > 64 KiB limit
    _rejected(live, setup, _post(live, setup, big), 413, "payload_too_large")


def test_size_limit_while_streaming(live, setup, nothing_stored):
    def chunks():  # no Content-Length: chunked transfer, counted while it streams
        yield b"id,prediction\n"
        for _ in range(100):
            yield b"n0000,0.5\n" * 100

    _rejected(live, setup, _post(live, setup, chunks()), 413, "payload_too_large")


@pytest.mark.parametrize(
    ("content_type", "status", "code"),
    [
        ("application/json", 415, "unsupported_media_type"),
        ("image/png", 415, "unsupported_media_type"),
        (None, 415, "unsupported_media_type"),
        ("application/vnd.apache.parquet", 422, "bad_parquet"),
    ],
)
def test_media_type_checks(live, setup, nothing_stored, content_type, status, code):
    _rejected(live, setup, _post(live, setup, classic_csv(IDS, 3), content_type=content_type), status, code)


def test_csv_declared_but_parquet_sent(live, setup, nothing_stored):
    buffer = io.BytesIO()
    classic_frame(IDS, 4).to_parquet(buffer, index=False)
    _rejected(live, setup, _post(live, setup, buffer.getvalue(), content_type="text/csv"), 422, "bad_csv")


def test_empty_body(live, setup, nothing_stored):
    _rejected(live, setup, _post(live, setup, b""), 422, "empty_file")


def test_wrong_round_and_wrong_kind(live, setup, nothing_stored):
    _rejected(live, setup, _post(live, setup, classic_csv(IDS, 5), round_number=99), 404, "not_found")
    # a Classic file sent to the Signals round breaks the Signals header rule
    _rejected(
        live,
        setup,
        _post(live, setup, classic_csv(IDS, 5), round_number=setup["signals"]),
        422,
        "wrong_headers",
    )
    # round_number must be a positive integer
    response = live.http(
        "POST", "/v1/models/up_model/submissions?round_number=abc", key=setup["key"], content=b"x",
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    _rejected(live, setup, response, 422, "invalid_request")


def test_both_kinds_open_needs_a_round_number(live, setup, nothing_stored):
    response = live.http(
        "POST", "/v1/models/up_model/submissions", key=setup["key"], content=classic_csv(IDS, 6),
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    _rejected(live, setup, response, 422, "ambiguous_round")


def test_valid_uploads_csv_parquet_multipart_and_signals(live, setup):
    client = live.client(setup["key"])
    first = client.upload_predictions(
        df=classic_frame(IDS, 7), model_id="up_model", round_number=setup["classic"]
    )
    # a replacement before the close keeps one submission per model and round
    buffer = io.BytesIO()
    classic_frame(IDS, 8).set_index("id").to_parquet(buffer)  # id in the index, as pandas users write it
    second = _post(live, setup, buffer.getvalue(), content_type="application/vnd.apache.parquet")
    assert second.status_code == 201, second.text
    multipart = live.http(
        "POST",
        f"/v1/models/up_model/submissions?round_number={setup['classic']}",
        key=setup["key"],
        files={"file": ("preds.csv", classic_csv(IDS, 9), "text/csv")},
    )
    assert multipart.status_code == 201, multipart.text
    assert multipart.json()["filename"] == "preds.csv"
    subs = client.submissions("up_model", round_number=setup["classic"])
    assert len(subs) == 1 and subs[0]["id"] in {first, second.json()["id"], multipart.json()["id"]}
    stored = live.context.service.submission_predictions(
        live.context.service.list_submissions(model="up_model")[0]
    )
    expected = classic_frame(IDS, 9).set_index("id")["prediction"]
    np.testing.assert_allclose(stored.reindex(expected.index).to_numpy(), expected.to_numpy())

    rng = np.random.default_rng(1)
    signals = pd.DataFrame(
        {"bloomberg_ticker": [*TICKERS[:120], "UNKNOWN US"], "signal": rng.random(size=121)}
    )
    response = _post(
        live, setup, signals.to_csv(index=False).encode(), round_number=setup["signals"], model="late_model"
    )
    assert response.status_code == 201, response.text


def test_same_predictions_in_another_format_change_nothing(live, setup):
    frame = classic_frame(IDS, 21).sample(frac=1.0, random_state=0)  # another row order
    first = _post(live, setup, classic_csv(IDS, 21))
    assert first.status_code == 201, first.text
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    again = _post(live, setup, buffer.getvalue(), content_type="application/vnd.apache.parquet")
    assert again.status_code == 201, again.text
    assert again.json()["checksum"] == first.json()["checksum"]
    assert again.json()["id"] == first.json()["id"] and again.json()["sha256"] == first.json()["sha256"]


def test_multipart_without_file_field(live, setup, nothing_stored):
    response = live.http(
        "POST",
        f"/v1/models/up_model/submissions?round_number={setup['classic']}",
        key=setup["key"],
        files={"other": ("x.csv", b"id,prediction\n", "text/csv")},
    )
    _rejected(live, setup, response, 422, "missing_file")
    response = _post(live, setup, b"--nope\r\n\r\n", content_type="multipart/form-data; boundary=zzz")
    assert response.status_code in (400, 422), response.text


def test_late_and_closed_rounds(live, setup):
    service = live.context.service
    live.clock.advance(hours=2)  # past close, before the late close (close + 1 day)
    service.close_round(setup["classic"], now=live.clock())
    late = _post(live, setup, classic_csv(IDS, 10), model="late_model")
    assert late.status_code == 201, late.text
    assert late.json()["late"] is True
    # an on-time submission cannot be replaced after the close
    with_nothing = (len(service.list_submissions()),)
    _rejected(live, setup, _post(live, setup, classic_csv(IDS, 11)), 409, "submission_locked")
    live.clock.advance(days=2)  # past the late close
    _rejected(live, setup, _post(live, setup, classic_csv(IDS, 12), model="late_model"), 409, "round_closed")
    assert (len(service.list_submissions()),) == with_nothing
