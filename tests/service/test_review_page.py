"""The review page in Debian's chromium: it loads, a query shows matches, accept posts feedback."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from surematch.data.esco import esco_queries, read_esco
from surematch.feedback import FeedbackStore, Review
from surematch.service import create_app

KEY = "secret-key"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} absent: apt-get install -y chromium")]


def reviews(folder: Path) -> list[Review]:
    with FeedbackStore(folder) as store:
        return store.reviews()


def signed_in(pw: Any, url: str) -> tuple[Any, Any]:
    """A headless Chromium (close it) and its page on the review page at url, the key entered."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page()
    page.goto(url + "/")
    page.fill("#apikey", KEY)
    page.dispatch_event("#apikey", "change")
    return browser, page


def serve(app: object) -> Iterator[str]:
    """uvicorn on a free loopback port in a thread; its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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


@pytest.fixture(scope="module")
def server(built: tuple[Path, Path, list[str]]) -> Iterator[str]:
    # the session's shared index: the page's reviews must not teach it texts
    yield from serve(create_app(built[0], built[1], api_key=KEY, learn_texts=False))


def test_query_then_accept(server: str, built: tuple) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    before = len(reviews(built[1]))
    with sync_api.sync_playwright() as pw:
        browser, page = signed_in(pw, server)
        page.fill("#query", "a person who repairs aircraft engines")
        page.click("#matchform button")
        page.wait_for_selector("#results li.match")
        assert page.locator("#results li.match").count() == 5
        if os.environ.get("SUREMATCH_SCREENSHOT"):
            page.screenshot(path=os.environ["SUREMATCH_SCREENSHOT"], full_page=True)
        page.locator("#results li.match button.fb[data-ok='1']").first.click()
        page.wait_for_selector("#results li.done")
        browser.close()
    rows = reviews(built[1])
    assert len(rows) == before + 1
    assert rows[-1].query == "a person who repairs aircraft engines" and \
        rows[-1].decision == "accept"
    assert rows[-1].expected_id in built[2]


@pytest.fixture()
def loop_server(built: tuple[Path, Path, list[str]], tmp_path: Path) -> Iterator[str]:
    """A server on copies of the model and index (refits write the model's calibration),
    every auto-accepted top match sampled for audit, 90 reviews stored, calibrated at 0.9."""
    import httpx

    from .test_feedback_loop import labelled, review_all

    shutil.copytree(built[0], tmp_path / "model")
    shutil.copytree(built[1], tmp_path / "index")
    for name in ("feedback.sqlite3", "feedback.sqlite3-wal", "feedback.sqlite3-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    app = create_app(tmp_path / "model", tmp_path / "index",
                     api_key={"alice": "k-alice", "page": KEY}, audit_fraction=1.0)
    for url in serve(app):
        with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=120) as c:
            review_all(c, labelled(built[2]))  # type: ignore[arg-type]
            assert c.post("/v1/calibration/refit",
                          json={"target_precision": 0.9}).status_code == 200
        yield url


def test_review_loop_accept_reject_correct_then_refit(loop_server: str, built: tuple,
                                                      tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    occupations = read_esco()
    qs = esco_queries(occupations, taxonomy=occupations)
    known = set(built[2])
    fresh = [t for t, e in zip(qs.texts, qs.expected_ids, strict=True) if e in known][90:110]
    before = len(reviews(tmp_path / "index"))
    with sync_api.sync_playwright() as pw:
        browser, page = signed_in(pw, loop_server)
        page.wait_for_selector("#calibration td.v-precision_target")
        assert page.inner_text("#calibration td.v-precision_target") == "0.9"
        page.fill("#batch", "\n".join(fresh))
        page.click("#loadqueue")
        page.wait_for_selector("#queue li.qitem")
        assert page.locator("#queue li.qitem").count() >= 3
        assert page.locator("#queue li.audit .audit-tag").count() >= 1  # audit items flagged
        # accept the first, reject the next, correct the third to another reference
        def stored(n: int) -> None:  # the export holds n more rows, the queue redrawn
            page.wait_for_function(
                "(n) => fetch('/v1/feedback/export').then(r => r.text()).then(t => "
                "t.trim().split('\\n').length >= n)", arg=before + n)
            page.wait_for_timeout(500)

        page.locator("#queue li.qitem button.fb[data-ok='1']").first.click()
        stored(1)
        page.locator("#queue li.qitem:not(.done) button.fb[data-ok='0']").first.click()
        stored(2)
        item = page.locator("#queue li.qitem:not(.done)").first
        item.locator("button.fixbtn").click()
        item.locator("input.fixq").fill("nurse")
        item.locator("input.fixq").press("Enter")
        item.locator(".fixlist button.pick").first.wait_for()
        item.locator(".fixlist button.pick").nth(1).click()
        stored(3)
        # refit from the page with another target: the bands change
        page.fill("#refit-target", "0.8")
        page.click("#refit")
        page.wait_for_selector("#refit-status:has-text('refitted')")
        assert page.inner_text("#calibration td.v-precision_target") == "0.8"
        assert "review queue chose" in page.inner_text("#refit-warnings")
        assert "auto-accept audit" in page.inner_text("#audit")
        # audited auto-accepts all wrong: the alarm shows as a banner
        import httpx

        with httpx.Client(base_url=loop_server, headers={"X-API-Key": KEY}) as c:
            for i in range(12):
                assert c.post("/v1/feedback", json={
                    "query": f"audited {i}", "decision": "reject", "shown_id": built[2][i],
                    "candidates": [{"id": built[2][i], "band": "accept"}],
                    "audit": True}).status_code == 200
        page.reload()
        page.wait_for_selector("#alarm:not([hidden])")
        assert "ALARM" in page.inner_text("#alarm")
        if os.environ.get("SUREMATCH_SCREENSHOT"):
            page.screenshot(path=os.environ["SUREMATCH_SCREENSHOT"] + ".loop.png",
                            full_page=True)
        browser.close()
    rows = reviews(tmp_path / "index")[before:before + 3]
    assert [r.decision for r in rows] == ["accept", "reject", "correct"]
    assert rows[2].corrected_id in built[2] and rows[2].corrected_id != rows[2].shown_id
    assert rows[0].reviewer == "page" and rows[0].calibration_id  # the key's name; calibrated


@pytest.fixture()
def queue_server(built: tuple[Path, Path, list[str]], tmp_path: Path) -> Iterator[str]:
    """A server on copies of the uncalibrated model and index, every query's top match
    sampled for audit (so each query is a queue item), no reliability diagram."""
    shutil.copytree(built[0], tmp_path / "model")
    shutil.copytree(built[1], tmp_path / "index")
    for name in ("feedback.sqlite3", "feedback.sqlite3-wal", "feedback.sqlite3-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    yield from serve(create_app(tmp_path / "model", tmp_path / "index", api_key=KEY,
                                audit_fraction=1.0))


def test_queue_by_keyboard_with_titles_counts_and_a_layout_that_fits(
        queue_server: str, built: tuple, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    occupations = read_esco()
    titles = {o.uri: o.preferred for o in occupations}
    queries = ["Nurse", "nurse ", "NURSE!", "aircraft engine repairer", "baker of bread",
               "long-distance truck driver"]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(queue_server + "/")
        page.fill("#apikey", KEY)
        page.dispatch_event("#apikey", "change")
        page.fill("#batch", "\n".join(queries))
        page.click("#loadqueue")
        page.wait_for_selector("#queue li.qitem.current")
        assert page.locator("#queue li.qitem").count() == 4  # the nurses are one item
        assert "4 waiting" in page.inner_text("#queue-count")
        counts = page.locator("#queue li.qitem .count").all_inner_texts()
        assert sorted(counts) == ["\u00d71", "\u00d71", "\u00d71", "\u00d73"]  # x N
        # reference titles where ids were, and the matched text
        first = page.locator("#queue li.qitem").first
        ref_id = first.locator(".shown .title").get_attribute("data-id")
        page.wait_for_function("(t) => document.querySelector('#queue li.qitem .shown .title')"
                               ".textContent === t", arg=titles[ref_id])
        assert "matched" in first.locator(".shown small").inner_text()
        assert "http" not in page.inner_text("#queue")
        # fits 1,280 px; no broken image without a report
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
        assert page.locator("#reliability").is_hidden()
        page.wait_for_selector("#no-reliability:not([hidden])")
        # keys: a accepts the current item, n moves on, r rejects, c corrects by type-ahead
        page.click("h1")
        page.keyboard.press("a")
        page.wait_for_function("() => document.querySelectorAll('#queue li.qitem').length === 3")
        page.keyboard.press("n")
        page.wait_for_selector("#queue li.qitem:nth-child(2).current")
        page.keyboard.press("r")
        page.wait_for_function("() => document.querySelectorAll('#queue li.qitem').length === 2")
        page.click("h1")
        page.keyboard.press("c")
        fix = page.locator("#queue li.qitem.current input.fixq")
        fix.wait_for()
        assert page.evaluate("() => document.activeElement.className") == "fixq"
        fix.type("baker", delay=20)
        page.wait_for_selector("#queue li.qitem.current .fixlist button.pick")
        page.wait_for_function("() => document.querySelector('#queue li.current .fixlist')"
                               ".dataset.for === 'baker'")
        fix.press("Enter")
        page.wait_for_function("() => document.querySelectorAll('#queue li.qitem').length === 1")
        # the live chart of the auto-accepted share
        page.wait_for_selector("#autochart polyline", state="attached")
        assert "auto-accepted" in page.inner_text("#traffic")
        if os.environ.get("SUREMATCH_SCREENSHOT"):
            page.screenshot(path=os.environ["SUREMATCH_SCREENSHOT"] + ".queue.png",
                            full_page=True)
        browser.close()
    rows = reviews(tmp_path / "index")
    assert [r.decision for r in rows][:2] == ["accept", "reject"]
    assert rows[2].decision in ("accept", "correct") and len(rows) == 3
