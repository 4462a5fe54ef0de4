"""/docs (Swagger UI) and /redoc work offline: every asset they load is served by this server."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import LiveServer

_ASSET = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']"""  # scripts, styles, icons
    r"""|\burl\s*:\s*["']([^"']+)["']"""  # Swagger UI's spec
    r"""|spec-url=["']([^"']+)["']"""  # ReDoc's spec
)


def _assets(html: str) -> list[str]:
    return sorted({next(group for group in match.groups() if group) for match in _ASSET.finditer(html)})


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_loads_only_local_assets_that_are_served(live: LiveServer, page: str):
    response = live.http("GET", page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    html = response.text
    assets = _assets(html)
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts, f"{page} loads no script: {assets}"
    assert "/openapi.json" in assets
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), f"{page} names a remote URL"
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), f"{page} loads {asset} from elsewhere"
        fetched = live.http("GET", asset)
        assert fetched.status_code == 200, f"{page}: {asset} answers {fetched.status_code}"
        assert fetched.content, f"{page}: {asset} is empty"


def test_swagger_ui_asks_no_online_validator(live: LiveServer):
    assert '"validatorUrl": null' in live.http("GET", "/docs").text
