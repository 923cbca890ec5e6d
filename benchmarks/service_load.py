"""Load benchmark of `surematch serve`: requests/s and latency of /v1/match at 1, 8, 32 clients.

    python benchmarks/service_load.py --model DEMO/model --index DEMO/index [--seconds 15]
        [--runtimes torch,onnx-int8]

Each runtime (`surematch serve --runtime`, after `surematch export MODEL` for the ONNX ones) is
measured in turn, in the same run, so their rows compare.
The index is copied to a temporary folder first (the server locks the one it opens). The server
runs in a subprocess on a free loopback port; this process is the load generator (httpx,
one thread per client). Writes the `service_load` section of BENCHMARKS.md.
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
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

from surematch.data.esco import esco_references, read_esco


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, index: Path, port: int, runtime: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from surematch.cli import main; main()", "serve", str(model),
           "--index", str(index), "--host", "127.0.0.1", "--port", str(port), "--runtime",
           runtime]
    proc = subprocess.Popen(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not become ready within 120 s")


def run_load(url: str, clients: int, seconds: float, queries: list[str]) -> dict[str, float]:
    """`clients` threads posting /v1/match until `seconds` have passed."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            i = n
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    ok = http.post("/v1/match", json={"query": queries[i % len(queries)],
                                                      "k": 10}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took) if ok else None
                    errors[0] += not ok
                i += clients

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    ms = np.array(latencies or [float("nan")]) * 1000
    return {"clients": clients, "rps": len(latencies) / wall, "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)), "errors": errors[0], "n": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--runtimes", default="torch,onnx-int8",
                        help="comma-separated runtimes to serve with, in turn")
    args = parser.parse_args()
    queries = [t.lower() for t in esco_references(read_esco()).texts[::7]]
    rows = []
    for runtime in args.runtimes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            index = Path(tmp) / "index"
            shutil.copytree(args.index, index)
            port = free_port()
            server = start_server(args.model, index, port, runtime)
            try:
                url = f"http://127.0.0.1:{port}"
                count = httpx.get(url + "/readyz").json()["references"]
                rows += [{"runtime": runtime, **run_load(url, c, args.seconds, queries)}
                         for c in (1, 8, 32)]
            finally:
                server.terminate()
                server.wait(timeout=30)
    body = (f"`python benchmarks/service_load.py --model {args.model} --index {args.index} "
            f"--runtimes {args.runtimes}`: POST /v1/match (k=10, one query per request, "
            f"encode + search + rules + calibration) against `surematch serve` on loopback, "
            f"{count} references, {args.seconds:.0f} s per level, micro-batching window 3 ms; "
            "the load generator shares the machine's cores with the server.\n\n"
            "| runtime | clients | requests/s | p50 ms | p99 ms | errors | requests |\n"
            "|---|---|---|---|---|---|---|\n"
            + "".join(f"| {r['runtime']} | {r['clients']} | {r['rps']:.1f} | {r['p50']:.1f} | "
                      f"{r['p99']:.1f} | {r['errors']} | {r['n']} |\n" for r in rows))
    write_section("service_load", body)
    print(body)


if __name__ == "__main__":
    main()
