"""The report opens in headless Chromium: no JavaScript error, every plot rendered, a real screenshot.

Skipped when Chromium is not installed, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.png import png_pixels

_ERROR_HOOK = """<script>
window.__errors = [];
function __record(text) {
  window.__errors.push(String(text));
  var box = document.getElementById('js-errors');
  if (box) { box.textContent = window.__errors.join('\\n'); }
}
window.onerror = function (message, source, line) { __record(message + ' @' + source + ':' + line); };
window.addEventListener('unhandledrejection', function (event) { __record('rejection: ' + event.reason); });
var __consoleError = console.error;
console.error = function () {
  __record(Array.prototype.join.call(arguments, ' '));
  __consoleError.apply(console, arguments);
};
document.addEventListener('DOMContentLoaded', function () {
  var box = document.createElement('pre'); box.id = 'js-errors';
  box.textContent = window.__errors.join('\\n'); document.body.appendChild(box);
});
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed (CI installs it in .ci/run)")
    pytest.skip("chromium is not installed")


def _flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
    ]


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tiny_demo, tmp_path) -> None:
    chromium = _chromium()
    report = tiny_demo.report_path
    html = report.read_text(encoding="utf-8")
    hooked = tmp_path / "report-hooked.html"
    hooked.write_text(html.replace("<head>", "<head>" + _ERROR_HOOK, 1), encoding="utf-8")

    dom = subprocess.run(
        [chromium, *_flags(tmp_path / "profile-dom"), "--dump-dom", hooked.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<pre id="js-errors"></pre>' in dom.stdout, dom.stdout.split('id="js-errors"')[-1][:2000]
    # plotly drew every figure (an svg per plot) and the tables are there
    assert dom.stdout.count('class="main-svg"') >= html.count('class="plotly-graph-div"')
    assert "Kardashev grades" in dom.stdout

    screenshot = tmp_path / "report.png"
    command = [chromium, *_flags(tmp_path / "profile-shot")]
    shot = subprocess.run(
        [*command, f"--screenshot={screenshot}", "--window-size=1280,2000", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.exists() and screenshot.stat().st_size > 20_000
    width, height, pixels = png_pixels(screenshot.read_bytes())
    assert (width, height) == (1280, 2000)
    assert len(set(pixels[:: max(1, len(pixels) // 200_000)])) > 20  # not a blank page
    keep = os.environ.get("KARDASHEV_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(screenshot, keep)


_LAYOUT_CHECK = """() => {
  const out = {scrollWidth: document.documentElement.scrollWidth, bodyWidth: document.body.scrollWidth,
               width: document.documentElement.clientWidth, sections: [], noTitle: [], outside: [],
               plots: 0, drawn: 0, conclusion: 0};
  for (const section of document.querySelectorAll('main > section')) out.sections.push(section.id);
  const conclusion = document.getElementById('conclusion');
  if (conclusion) out.conclusion = conclusion.querySelectorAll('li').length;
  for (const plot of document.querySelectorAll('.plotly-graph-div')) {
    out.plots += 1;
    if (plot.querySelector('.main-svg')) out.drawn += 1;
    for (const key of Object.keys(plot._fullLayout || {})) {
      if (!/^[xy]axis\\d*$/.test(key)) continue;
      const axis = (plot.layout || {})[key];
      if (!(axis && axis.title && axis.title.text)) out.noTitle.push(plot.id + '.' + key);
    }
  }
  for (const box of document.querySelectorAll('.plotly-graph-div, .scroll')) {
    const section = box.closest('section').getBoundingClientRect();
    const rect = box.getBoundingClientRect();
    if (rect.right > section.right + 1) out.outside.push(box.closest('section').id);
  }
  return out;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [1024, 1400])
def test_report_layout_in_headless_chromium(tiny_demo, width: int) -> None:
    """At 1024 and 1400 px: every section, the conclusion first, every plot drawn with axis titles,
    nothing wider than the page (wide tables scroll inside their box), no JavaScript error."""
    from kardashev.demo.report import SECTION_IDS

    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console", lambda message: errors.append(message.text) if message.type == "error" else None
            )
            page.goto(tiny_demo.report_path.as_uri(), wait_until="load")
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
                ".every(plot => plot.querySelector('.main-svg'))",
                timeout=30_000,
            )
            found = page.evaluate(_LAYOUT_CHECK)
        finally:
            browser.close()
    assert not errors, errors
    assert found["sections"] == list(SECTION_IDS)
    assert found["conclusion"] == 5
    assert found["plots"] >= 12 and found["drawn"] == found["plots"]
    assert not found["noTitle"], found["noTitle"]
    assert found["scrollWidth"] <= found["width"] and found["bodyWidth"] <= found["width"], found
    assert not found["outside"], found["outside"]
