"""Every kind of page screenshotted at 1024 px and 1400 px: real pixels, nothing wider than the window.

``KARDASHEV_KEEP_SCREENSHOTS=DIR`` keeps the PNG files (docs/web.md's picture is one of them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.api.web.conftest import EXTRA_SCORES, Tab
from tests.png import png_pixels

pytestmark = pytest.mark.slow
WIDTHS = (1024, 1400)


@pytest.fixture(scope="module")
def season_scores() -> tuple[str, ...]:
    return EXTRA_SCORES  # this season's model pages also chart feature exposure and the stored CWMM


def _pages(season) -> list[tuple[str, str, str | None]]:
    return [
        ("leaderboard", "/", None),
        ("model", f"/models/{season.models['alice_one']}", None),
        ("round", f"/rounds/{season.resolved[-1]}", None),
        ("downloads", "/downloads", None),
        ("my-model", f"/me/models/{season.models['alice_one']}", "alice"),
        ("operator", "/operator", "operator"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_are_drawn_at_common_widths(season, browser, width, tmp_path) -> None:
    keep = os.environ.get("KARDASHEV_KEEP_SCREENSHOTS")
    for name, path, who in _pages(season):
        tab = Tab(browser, season.url, width=width)
        try:
            if who is not None:
                tab.sign_in(season.keys[who])
            assert tab.open(path).status == 200
            charts = tab.page.locator("div.chart").count()
            if name == "model":
                assert charts == 5  # per round, cumulative, stake and payout, CWMM, feature exposure
            if charts:
                tab.page.wait_for_function(
                    f"document.querySelectorAll('div.chart .main-svg').length >= {charts}"
                )
            overflow = tab.page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow} px wide in a {width} px window"
            clipped = tab.page.eval_on_selector_all(
                ".scroll", "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth + 1).length"
            )
            assert clipped == 0, f"{name}: {clipped} table(s) need a horizontal scroll at {width} px"
            data = tab.page.screenshot(full_page=True)
            assert tab.errors == [], name
        finally:
            tab.close()
        shot_width, height, pixels = png_pixels(data)
        assert shot_width == width and height >= 600, name
        assert len(set(pixels[:: max(1, len(pixels) // 200_000)])) > 20, f"{name} looks blank"
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            (Path(keep) / f"{name}-{width}.png").write_bytes(data)


def test_the_payout_preview_is_drawn_at_1024_px(season, browser) -> None:
    tab = Tab(browser, season.url, width=1024)
    try:
        tab.sign_in(season.keys["operator"])
        assert tab.open(f"/operator/rounds/{season.resolved[-1]}").status == 200
        tab.page.click("#preview-form button[type=submit]")
        tab.page.wait_for_load_state("load")
        assert tab.page.locator("#preview tbody tr").count() == len(
            season.live.context.service.payouts(round_number=season.resolved[-1])
        )
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= 1024
        data = tab.page.screenshot(full_page=True)
        assert tab.errors == []
    finally:
        tab.close()
    width, height, pixels = png_pixels(data)
    assert width == 1024 and height >= 600
    assert len(set(pixels[:: max(1, len(pixels) // 200_000)])) > 20, "the preview looks blank"
    keep = os.environ.get("KARDASHEV_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "operator-preview-1024.png").write_bytes(data)
