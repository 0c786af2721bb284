"""The web UI in a real browser: Debian's chromium driven by Playwright.

``playwright install`` downloads a browser and cannot work offline, so the tests launch the
system chromium (``scripts/browser.sh`` installs it). Without it they skip, except in CI
(``CI=true``), where a missing browser is a failure: a silent skip would hide the gap.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from newsvault.config import load_settings
from tests.test_api import SCRIPT_URL, TOKEN, Archived, build_archive, ts14
from tests.test_pipeline import T0

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: run scripts/browser.sh (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Archived:
    from storage.db import migrate
    from tasks.lsh import forget_indexes

    _require_chromium()
    forget_indexes()
    settings = load_settings(home=tmp_path_factory.mktemp("browser") / "data", api_token=TOKEN)
    settings.ensure_home()
    migrate(settings.index_url)
    return build_archive(settings)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``newsvault serve`` in a thread: uvicorn on 127.0.0.1, a free port; yields its origin."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(archived: Archived) -> Iterator[str]:
    from newsvault.web import create_app

    with serving(create_app(archived.settings)) as origin:
        yield origin


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_search_open_article_and_diff(page: Any, server: str, archived: Archived) -> None:
    page.goto(server + "/search")
    page.fill("main input[name=q]", "قآني")
    page.click("main button[type=submit]")
    results = page.locator("#results .result-title")
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    seed_link = page.locator(".result", has_text=archived.seed_url).locator(".result-title")
    assert seed_link.count() == 1, hrefs
    assert page.locator("#results mark", has_text="قاآني").count() >= 1

    seed_link.click()
    page.wait_for_url("**/articles/*")
    text = page.locator("#article-text")
    assert "قاآني" in text.inner_text()
    direction = text.evaluate("element => getComputedStyle(element).direction")
    assert direction == "rtl"
    font = text.evaluate("element => getComputedStyle(element).fontFamily")
    assert "Noto Naskh Arabic" in font

    page.goto(server + "/api/articles?language=en")
    edited = next(a for a in page_json(page)["articles"] if a["url"] == archived.edited_url)
    page.goto(f"{server}/articles/{edited['id']}")
    page.click("a.diff-link")
    page.wait_for_url("**/diff?*")
    inserted = page.locator(".side.new ins")
    assert inserted.count() >= 1
    assert "Correction" in " ".join(inserted.all_inner_texts())
    assert page.locator(".side.old del").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diff.png"), full_page=True)
    assert (ARTIFACTS / "diff.png").stat().st_size > 10_000


def page_json(page: Any) -> Any:
    import json

    return json.loads(page.locator("body").inner_text())


def test_raw_replay_does_not_run_captured_scripts(page: Any, server: str) -> None:
    # The premise: without the archive's sandbox, this page's script does run.
    from tests.test_api import SCRIPT_PAGE

    page.set_content(SCRIPT_PAGE.decode())
    assert page.title() == "pwned"

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    at = ts14(T0 + timedelta(hours=2))
    response = page.goto(f"{server}/web/{at}id_/{quote(SCRIPT_URL, safe=':/')}")
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == "sandbox"
    page.wait_for_load_state("load")
    assert page.title() == "Harbour plan approved"
    assert "Harbour plan approved" in page.locator("h1").inner_text()
    # The sandbox gives the document an opaque origin: it cannot read the archive's storage.
    assert page.evaluate("() => window.origin") == "null"
    assert not any("/api/" in url for url in requests)
