"""Benchmarks of the API (``make bench``): each figure printed as a ratio against a reference measured in the same run.

1. ``POST /api/segment`` requests per second under gunicorn, against a trivial Flask JSON endpoint served with the
   same gunicorn settings, both on loopback (target: ratio ≥ 0.85).
2. A 100,000-row JSON batch answered in under 2 s (printed as time / 2 s; target ≤ 1).
3. ``python -m api.score`` on 1,000,000 rows against a command that only reads the same CSV with pandas
   (target: ratio ≤ 2).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from flask import Flask, Response, jsonify

from api.gunicorn_conf import workers as WORKERS
from api.schemas import FEATURES
from stages import config

HOST = "127.0.0.1"
#: The settings of `make serve` (api/gunicorn_conf.py): workers from the core count, artifacts loaded once before forking.
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_conf"]
BODY = json.dumps({"Fresh": 12669, "Milk": 9656, "Grocery": 7561, "Frozen": 214, "Detergents_Paper": 2674, "Delicassen": 1338, "Channel": 2, "Region": 3}).encode()
CLIENT_PROCESSES, CLIENT_THREADS, SECONDS, ROUNDS, ROUNDS_THROUGHPUT = 2, 4, 3.0, 3, 8


def trivial_app() -> Flask:
    """The reference: a Flask app whose only endpoint answers a constant JSON object."""
    app = Flask(__name__)

    @app.post("/api/segment")
    def constant() -> Response:
        """Answer without looking at the request."""
        return jsonify({"status": "ok"})

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(app_spec: str) -> Iterator[int]:
    """Serve ``app_spec`` with the `make serve` settings on a free loopback port until the block ends."""
    port = _free_port()
    proc = subprocess.Popen([*GUNICORN, "--bind", f"{HOST}:{port}", app_spec], cwd=config.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=2)
                conn.request("POST", "/api/segment", BODY, {"Content-Type": "application/json"})
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app_spec} did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _client(port: int, seconds: float, out: mp.Queue[int]) -> None:
    counts = [0] * CLIENT_THREADS
    stop = time.monotonic() + seconds

    def loop(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        while time.monotonic() < stop:
            conn.request("POST", "/api/segment", BODY, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            counts[k] += 1

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(sum(counts))


def requests_per_second(port: int, seconds: float = SECONDS) -> float:
    """Requests per second from several client processes (threads with http.client) over ``seconds``."""
    queue: mp.Queue[int] = mp.Queue()
    procs = [mp.Process(target=_client, args=(port, seconds, queue)) for _ in range(CLIENT_PROCESSES)]
    start = time.monotonic()
    for p in procs:
        p.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join()
    return total / (time.monotonic() - start)


def bench_throughput() -> None:
    """/api/segment against the trivial endpoint in alternating rounds; the figure is the median of the paired ratios.

    All servers run side by side and each round measures them one right after the other (in turn reversed), so a
    drift of the machine's speed (±15 % between rounds here) hits every side of a round alike.
    """
    apps = {"trivial": "tests.bench:trivial_app()", "api": "api:create_app()"}
    rps: dict[str, list[float]] = {name: [] for name in apps}
    with contextlib.ExitStack() as stack:
        ports = {name: stack.enter_context(gunicorn(spec)) for name, spec in apps.items()}
        for port in ports.values():  # warm up
            requests_per_second(port, 1.0)
        for i in range(ROUNDS_THROUGHPUT):
            for name in list(apps) if i % 2 == 0 else list(apps)[::-1]:
                rps[name].append(requests_per_second(ports[name]))
    ratios = [o / r for o, r in zip(rps["api"], rps["trivial"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"1. POST /api/segment under gunicorn ({WORKERS} workers): median {statistics.median(rps['api']):,.0f} req/s; trivial Flask JSON "
          f"endpoint {statistics.median(rps['trivial']):,.0f} req/s; median paired ratio {ratio:.3f} (target >= 0.85) {'OK' if ratio >= 0.85 else 'MISSED'}")
    print(f"   rounds (api/trivial): {', '.join(f'{o:,.0f}/{r:,.0f}' for o, r in zip(rps['api'], rps['trivial'], strict=True))}")
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    print(f"   paired ratios from {min(ratios):.2f} to {max(ratios):.2f}, middle half {q1:.2f}–{q3:.2f} (same code each round: the spread is the machine's)")


def random_customers(n: int, seed: int = 0) -> pd.DataFrame:
    """Log-normal yearly spending like the real data, with labels."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(np.exp(rng.normal(8, 1.3, size=(n, len(FEATURES)))).round().astype(np.int64), columns=list(FEATURES))
    frame.insert(0, "Region", rng.integers(1, 4, n))
    frame.insert(0, "Channel", rng.integers(1, 3, n))
    return frame


def bench_batch(n: int = 100_000) -> None:
    """A 100,000-row JSON batch through gunicorn on loopback, against 2 s."""
    body = json.dumps(random_customers(n).to_dict("records")).encode()
    times = []
    with gunicorn("api:create_app()") as port:
        for _ in range(ROUNDS):
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            start = time.perf_counter()
            conn.request("POST", "/api/segment/batch", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            answer = response.read()
            times.append(time.perf_counter() - start)
            if response.status != 200 or json.loads(answer)["n_ok"] != n:
                raise RuntimeError(f"batch failed: {response.status} {answer[:300]!r}")
    best = min(times)
    print(f"2. {n:,}-row JSON batch ({len(body) / 1e6:.1f} MB): {best:.2f} s (median {statistics.median(times):.2f} s); "
          f"ratio to 2 s {best / 2:.2f} (target <= 1) {'OK' if best < 2 else 'MISSED'}")


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=config.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_score(n: int = 1_000_000) -> None:
    """`python -m api.score` on a 1,000,000-row CSV against a command that only reads it with pandas."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "customers.csv", Path(tmp) / "segments.csv"
        random_customers(n, seed=1).to_csv(source, index=False)
        read_only = [sys.executable, "-c", "import sys, pandas; pandas.read_csv(sys.argv[1])", str(source)]
        score = [sys.executable, "-m", "api.score", str(source), "-o", str(target)]
        # alternately, so a drift of the machine's speed during the runs hits both sides alike
        times: dict[str, list[float]] = {"reference": [], "ours": []}
        for _ in range(ROUNDS):
            times["reference"].append(_timed(read_only))
            times["ours"].append(_timed(score))
        reference, ours = min(times["reference"]), min(times["ours"])
        rows = sum(1 for _ in open(target, encoding="utf-8")) - 1
    ratio = ours / reference
    print(f"3. python -m api.score on {n:,} rows: {ours:.2f} s (wrote {rows:,} rows); `python -c pandas.read_csv` of the same file "
          f"{reference:.2f} s; ratio {ratio:.2f} (target <= 2) {'OK' if ratio <= 2 else 'MISSED'}")
    print(f"   rounds (ours/reference, run alternately): {', '.join(f'{o:.2f}/{r:.2f}' for o, r in zip(times['ours'], times['reference'], strict=True))}")


def main() -> None:
    """Run the three benchmarks."""
    print(f"benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}, loopback {HOST}")
    bench_throughput()
    bench_batch()
    bench_score()


if __name__ == "__main__":
    main()
