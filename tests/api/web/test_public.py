"""The public pages in headless Chromium: rendered, charts drawn, no JavaScript error, the API's numbers."""

from __future__ import annotations

import io
from decimal import Decimal

import httpx
import pandas as pd
import pytest

from kardashev.api.web.render import fmt_number
from tests.api.web.conftest import XSS_NAME

pytestmark = pytest.mark.slow


def _cells(tab, selector: str) -> list[list[str]]:
    return tab.page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )


def test_every_public_page_renders_without_javascript_errors(season, tab) -> None:
    pages = ["/", "/?window=20r", "/?window=1y&sort=stake", "/rounds", "/rounds/1", "/rounds/3", "/downloads"]
    pages += [f"/models/{model_id}" for model_id in season.models.values()]
    for path in pages:
        response = tab.open(path)
        assert response.status == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert tab.errors == []


def test_model_page_draws_every_chart(season, tab) -> None:
    tab.open(f"/models/{season.models['alice_one']}")
    charts = tab.page.locator("div.chart")
    assert charts.count() == 4  # per round, cumulative, stake and payout, correlation with the meta model
    tab.page.wait_for_function("document.querySelectorAll('div.chart .main-svg').length >= 4")
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.locator(".main-svg").count() >= 1
        assert chart.locator("g.trace, g.scatterlayer .trace, g.barlayer .trace").count() >= 1
    # the per-round table holds the API's own per-round scores for alice's model
    rows = _cells(tab, "#history")
    assert [row[0] for row in rows] == [str(n) for n in season.resolved]
    api = httpx.get(
        f"{season.url}/v1/models/alice_one/scores",
        headers={"Authorization": f"Token {season.keys['alice'].token}"},
    ).json()
    by_round = {p["round_number"]: p for p in api}
    for row in rows:
        performance = by_round[int(row[0])]
        assert row[1] == fmt_number(performance["latest"]["corr"])
        assert Decimal(row[-1]) == Decimal(performance["payout"])
    assert tab.page.locator(".grade").count() == 1
    assert tab.errors == []


def test_leaderboard_shows_the_api_numbers_and_sorts(season, tab) -> None:
    api = httpx.get(f"{season.url}/v1/leaderboard").json()
    assert len(api) == len(season.models)
    for window, suffix in (("round", ""), ("20r", "_20r")):
        tab.open(f"/?window={window}")
        shown = {
            row["model"]: row
            for row in tab.page.eval_on_selector_all(
                "#leaderboard tbody tr",
                "rows => rows.map(r => ({model: r.dataset.model, rank: r.cells[0].textContent, "
                "cells: Object.fromEntries(Array.from(r.querySelectorAll('td[data-column]'))"
                ".map(c => [c.dataset.column, c.textContent]))}))",
            )
        }
        assert set(shown) == {row["model"] for row in api}
        for row in api:
            cells = shown[row["model"]]["cells"]
            assert shown[row["model"]]["rank"] == str(row["rank"])
            assert cells["stake"] == row["stake"]
            for score in ("corr", "mmc", "tc", "true_return"):
                assert cells[f"{score}{suffix}"] == fmt_number(row["values"].get(f"{score}{suffix}"))
    for column in ("corr", "mmc", "tc", "true_return", "stake"):
        tab.open(f"/?sort={column}")
        values = [
            float(text) if text != "–" else float("-inf")
            for text in tab.page.eval_on_selector_all(
                f"#leaderboard td[data-column='{column}']", "cells => cells.map(c => c.textContent)"
            )
        ]
        assert values == sorted(values, reverse=True), column
    assert tab.errors == []


def test_round_page_shows_status_submissions_and_totals(season, tab) -> None:
    service = season.live.context.service
    number = season.resolved[-1]
    tab.open(f"/rounds/{number}")
    api = httpx.get(f"{season.url}/v1/rounds/{number}").json()
    assert tab.page.text_content("#round-status") == api["status"] == "resolved"
    assert tab.page.text_content("#n-submissions") == str(api["n_contributors"])
    payouts = [p.amount for p in service.payouts(round_number=number)]
    paid = sum(a for a in payouts if a > 0) / Decimal(10**6)
    burned = -sum(a for a in payouts if a < 0) / Decimal(10**6)
    assert Decimal(tab.page.text_content("#paid")) == paid
    assert Decimal(tab.page.text_content("#burned")) == burned
    assert tab.page.text_content("#payout-factor") == "1.000"  # no payout threshold: factor 1
    assert len(_cells(tab, "#results")) == len(season.models)
    # an open round shows no results and no model names
    tab.open(f"/rounds/{season.current}")
    assert tab.page.locator("#results").count() == 0
    assert "alice_one" not in tab.page.content()


def test_downloads_link_the_released_meta_model(season, tab) -> None:
    tab.open("/downloads")
    link = tab.page.locator("a.download")
    hrefs = [link.nth(i).get_attribute("href") for i in range(link.count())]
    assert hrefs == ["/v1/meta-models/2", "/v1/meta-models/1"]  # lag 1: the rounds before the latest
    href = hrefs[-1]
    data = tab.page.request.get(href).body()
    table = pd.read_parquet(io.BytesIO(data))
    assert list(table.columns) == ["id", "naive_meta_model"]
    assert set(table["id"]) == set(season.ids)
    # the open round's meta model is not released, and the page says why
    row = tab.page.locator("#downloads tbody tr").first
    assert row.locator("a.download").count() == 0


def test_model_names_are_escaped_everywhere(season, tab) -> None:
    for path in ("/", f"/models/{season.models['xss']}", f"/rounds/{season.resolved[0]}"):
        tab.open(path)
        tab.page.wait_for_timeout(100)
        assert tab.page.evaluate("window.__xss") is None, path
        assert tab.page.locator("img[src=x]").count() == 0
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in tab.page.content()
    assert tab.page.locator("a", has_text=XSS_NAME).count() == 1
    tab.open(f"/models/{season.models['xss']}")
    assert tab.page.text_content("#model-name") == XSS_NAME
    assert tab.errors == []


def test_unknown_model_and_round_are_html_404(season, tab) -> None:
    for path in ("/models/999999", "/models/nobody", "/rounds/999"):
        response = tab.open(path)
        assert response.status == 404
        assert response.headers["content-type"].startswith("text/html")
        assert tab.page.locator("p.error").count() == 1
