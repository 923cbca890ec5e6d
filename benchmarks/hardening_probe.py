"""The timing cases of issue #22 against a real `surematch serve` (uvicorn, the demo's index):
what a write within the limits, and a hostile or slow client, cost the server.

    python benchmarks/hardening_probe.py --model DEMO/model --index DEMO/index [--write]

The index is copied to a temporary folder first. The server runs in a subprocess on a free
loopback port with a key; this process is the client. Each case reports how long its own
answer took and the worst `/healthz` (and, for writes, match) latency seen meanwhile, polled
every 50 ms. With --write the table becomes the `hardening_probe` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

KEY = "probe-key"
W = {"X-API-Key": KEY}


def disk_mib(folder: Path) -> float:
    """Disk used (blocks, as du counts them: the engine's files are sparse)."""
    return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file()) / 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, index: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from surematch.cli import main; main()", "serve", str(model),
           "--index", str(index), "--host", "127.0.0.1", "--port", str(port),
           "--api-key", KEY]
    proc = subprocess.Popen(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not become ready within 120 s")


class Watch:
    """Polls /healthz (and a match, when asked) every 50 ms in threads; the worst latencies."""

    def __init__(self, url: str, match: bool) -> None:
        self.url, self.stop = url, threading.Event()
        self.worst = {"healthz": 0.0, "match": 0.0}
        self.threads = [threading.Thread(target=self._poll, args=("healthz",))]
        if match:
            self.threads.append(threading.Thread(target=self._poll, args=("match",)))

    def _poll(self, what: str) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as http:
            while not self.stop.is_set():
                start = time.perf_counter()
                if what == "healthz":
                    http.get("/healthz")
                else:
                    http.post("/v1/match", json={"query": "nurse", "k": 5}, headers=W)
                self.worst[what] = max(self.worst[what], time.perf_counter() - start)
                time.sleep(0.05)

    def __enter__(self) -> Watch:
        for t in self.threads:
            t.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def parallel(fn: Callable[[], None], n: int) -> None:
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def raw(port: int, data: bytes, trickle: float = 0.0, wait: float = 60.0) -> tuple[float, bytes]:
    """Send data on a raw connection (one byte every `trickle` s when given); the time until
    the server answers or closes, and what it answered."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        try:
            if trickle:
                for b in data:
                    conn.sendall(bytes([b]))
                    time.sleep(trickle)
            else:
                conn.sendall(data)
            got = conn.recv(200)
        except OSError:
            got = b"(closed)"
    return time.perf_counter() - start, got


def probe(url: str, port: int) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    http = httpx.Client(base_url=url, timeout=300)

    def row(case: str, before: str, took: float, answer: Any, watch: Watch | None) -> None:
        meanwhile = "" if watch is None else f"healthz {watch.worst['healthz']:.2f} s" + (
            f", match {watch.worst['match']:.2f} s" if len(watch.threads) > 1 else "")
        rows.append((case, before, f"{answer} in {took:.2f} s", meanwhile))
        print(rows[-1], flush=True)

    # 1. writes within the limits
    payload = {f"key{n}": n for n in range(1_000)}
    with Watch(url, match=True) as w:
        took, r = timed(lambda: http.post("/v1/references", headers=W, json={"references": [
            {"id": "wide", "text": "lighthouse keeper", "payload": payload}]}))
    row("one reference, payload of 1,000 new keys", "no answer in 25 s; server frozen 13 min",
        took, r.status_code, w)
    with Watch(url, match=True) as w:
        took, r = timed(lambda: http.post("/v1/references", headers=W, json={"references": [
            {"id": "twenty", "text": "harbour pilot",
             "payload": {f"new{n}": f"v{n}" for n in range(20)}}]}))
        time.sleep(5)  # the indexer's work on the keys, while reads go on
    row("one reference, 20 new keys (then 5 s of indexing)", "10.9 s, healthz 4.1 s", took,
        r.status_code, w)
    with Watch(url, match=True) as w:
        wides = [timed(lambda n=n: http.post("/v1/references", headers=W, json={
            "references": [{"id": f"wide{n}", "text": "lock keeper",
                            "payload": {f"w{n}k{j}": j for j in range(1_000)}}]}))
            for n in range(5)]
    row("5 references of 1,000 other new keys each, one after another (slowest)", "",
        max(t for t, _ in wides), sorted({r.status_code for _, r in wides}), w)
    texts = [f"occupation number {n} in the harbour" for n in range(1_000)]
    with Watch(url, match=True) as w:
        took, r = timed(lambda: http.post("/v1/references", headers=W, json={"references": [
            {"id": "many", "texts": texts[:256]}]}))
    row("one reference of 256 texts (the most one write embeds)",
        "8 x 1,000 texts: 21 s, a match waited 20.8 s", took, r.status_code, w)
    eight = {"references": [{"id": f"m{n}", "texts": texts} for n in range(8)]}
    took, r = timed(lambda: http.post("/v1/references", headers=W, json=eight))
    row("8 references of 1,000 texts in one request", "21 s", took, r.status_code, None)

    # 2. unauthenticated requests
    for length in (16_000, 8_000):
        took, got = raw(port, b"X" * length + b" /v1/match HTTP/1.1\r\nHost: localhost\r\n\r\n")
        row(f"a {length:,}-character method", "2.7 s (16,000)", took,
            got.split(b"\r\n")[0].decode(errors="replace"), None)

    def methods() -> None:
        for _ in range(25):
            raw(port, b"Y" * 7_000 + b" /v1/match HTTP/1.1\r\nHost: localhost\r\n\r\n")

    with Watch(url, match=False) as w:
        took, _ = timed(lambda: parallel(methods, 4))
    row("4 clients looping 7,000-character methods (100 in all)", "healthz 6.9 s", took,
        "405 each", w)
    labels = sum("method=" in line for line in http.get("/metrics", headers=W).text.splitlines()
                 if line.startswith("surematch_requests_total"))
    rows.append(("made-up methods in /metrics", "one label each, kept", f"{labels} series", ""))
    long_texts = ["nurse " * 333] * 256
    answers: list[int] = []

    def heavy() -> None:
        answers.append(http.post("/v1/match", json={"queries": long_texts, "k": 100}
                                 ).status_code)

    with Watch(url, match=False) as w:
        took, _ = timed(lambda: parallel(heavy, 3))
    row("3 open matches of 256 x 2,000 characters at k 100", "up to 136 s, healthz 6.8 s",
        took, sorted(set(answers)), w)
    answers.clear()

    def within() -> None:
        answers.append(http.post("/v1/match", json={"queries": long_texts[:50], "k": 10}
                                 ).status_code)

    with Watch(url, match=False) as w:
        took, _ = timed(lambda: parallel(within, 3))
    row("3 open matches of 50 x 2,000 characters at k 10 (within the budget)", "",
        took, sorted(set(answers)), w)

    # 3. slow clients
    took, got = raw(port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n", wait=120)
    row("half-sent head, then silence", "held past 30 s", took, got[:12] or "closed", None)
    head = (b"POST /v1/match HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n")
    took, got = raw(port, head + b'{"query": "' + b"n" * 88 + b'"}', trickle=0.5, wait=120)
    row("a body sent at 2 bytes/s", "held past 30 s", took,
        got.split(b"\r\n")[0].decode(errors="replace") or "closed", None)
    http.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md's section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(args.index, index)
        before = disk_mib(index)
        port = free_port()
        proc = start_server(args.model, index, port)
        try:
            rows = probe(f"http://127.0.0.1:{port}", port)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        size = disk_mib(index)
    lines = ["| case | before (issue #22) | now: the answer | worst meanwhile |",
             "| --- | --- | --- | --- |", *(f"| {' | '.join(r)} |" for r in rows)]
    table = "\n".join(lines) + f"\n\nThe index grew by {size - before:.0f} MiB on disk " \
        "(the issue's probe: 113 MiB grew to 438 MiB)."
    print(table)
    if args.write:
        write_section("hardening_probe", "## What a request may cost the server "
                      "(`benchmarks/hardening_probe.py`)\n\n`flock /tmp/heavy.lock python "
                      "benchmarks/hardening_probe.py --model DEMO/model --index DEMO/index "
                      "--write` (the demo's int8 model and index, 2 cores)\n\n" + table)


if __name__ == "__main__":
    main()
