"""The review page in Debian's chromium: it loads, a query shows matches, accept posts feedback."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from surematch.service import create_app

KEY = "secret-key"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} absent: apt-get install -y chromium")]


@pytest.fixture(scope="module")
def server(built: tuple[Path, Path, list[str]]) -> Iterator[str]:
    """uvicorn on a free loopback port in a thread; its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(built[0], built[1], api_key=KEY)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_query_then_accept(server: str, built: tuple) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    feedback = built[1] / "feedback.jsonl"
    before = len(feedback.read_text().splitlines()) if feedback.exists() else 0
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(server + "/")
        page.fill("#apikey", KEY)
        page.dispatch_event("#apikey", "change")
        page.fill("#query", "a person who repairs aircraft engines")
        page.click("#matchform button")
        page.wait_for_selector("#results li.match")
        assert page.locator("#results li.match").count() == 5
        if os.environ.get("SUREMATCH_SCREENSHOT"):
            page.screenshot(path=os.environ["SUREMATCH_SCREENSHOT"], full_page=True)
        page.locator("#results li.match button.fb[data-ok='1']").first.click()
        page.wait_for_selector("#results li.done")
        browser.close()
    rows = [json.loads(x) for x in feedback.read_text().splitlines()]
    assert len(rows) == before + 1
    assert rows[-1]["text"] == "a person who repairs aircraft engines" and rows[-1]["accepted"]
    assert rows[-1]["expected_id"] in built[2]
