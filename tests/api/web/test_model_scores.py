"""A model page under an operator's scorer that records CWMM and feature exposure."""

from __future__ import annotations

import pytest

from kardashev.api.web.forms import Visit
from kardashev.api.web.public import meta_model_correlations, model_history
from kardashev.api.web.render import fmt_number
from tests.api.web.conftest import EXTRA_SCORES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def season_scores() -> tuple[str, ...]:
    return EXTRA_SCORES


def test_stored_and_recomputed_correlation_with_the_meta_model_agree(season) -> None:
    context = season.live.context
    visit = Visit(context=context, session=None, request=None)  # type: ignore[arg-type]
    model = context.service.get_model(season.models["alice_one"])
    history = model_history(visit, model)
    stored = meta_model_correlations(visit, model, history)
    recomputed = meta_model_correlations(visit, model, history.drop(columns=["cwmm"]))
    assert set(stored) == set(recomputed) == set(season.resolved)
    for number in season.resolved:
        assert recomputed[number] == pytest.approx(stored[number], rel=1e-9, abs=1e-12)


def test_model_page_shows_the_stored_exposure_and_cwmm(season, tab) -> None:
    tab.open(f"/models/{season.models['bob_one']}")
    headers = tab.page.eval_on_selector_all("#history thead th", "c => c.map(x => x.textContent)")
    assert "Max feature exposure" in headers and "Corr w/ meta model" in headers
    rows = tab.page.eval_on_selector_all(
        "#history tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
    )
    service = season.live.context.service
    for row in rows:
        number = int(row[0])
        final = {
            s.metric: s.value
            for s in service.scores(round_number=number, model=season.models["bob_one"], day=2)
        }
        assert row[headers.index("Max feature exposure")] == fmt_number(final["feature_exposure_max"])
        assert row[headers.index("Corr w/ meta model")] == fmt_number(final["cwmm"])
    tab.page.wait_for_function("document.querySelectorAll('#chart-exposure .main-svg').length >= 1")
    assert tab.errors == []
