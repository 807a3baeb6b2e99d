#!/usr/bin/env python3
"""How `infocontrols add` scales: N synthetic events added to a copy of the real package.

    python benchmarks/add.py [--sizes 1000 10000] [--repeats 3] [--out DIR]

Each event has two actors (one already in the package, one new), a measure already in the
package, two new sources and a figure, so every index `add` keeps is exercised. Each run is
a fresh `infocontrols add` process on a fresh copy (the whole command: reading, checking,
validating the new state, writing), timed by wall clock; the median is printed with the
ratio between sizes, which is about 10 for a tenfold batch when the cost is linear (it was
over 100 before `add` kept its indexes up to date). Timing is measured here, never asserted
in unit tests.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def events(n: int) -> list[dict]:
    """N valid nested events that reuse some existing records and add others."""
    out = []
    for i in range(n):
        day = f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}"
        url = f"https://news.example.org/bench/{i}"
        out.append({
            "title": f"Benchmark event {i}",
            "summary": "A synthetic event for the add benchmark.",
            "event_type": "blocking", "control_domain": "network_blocking",
            "date_start": day, "date_end": day, "date_precision": "day", "date_basis": "occurred",
            "admin1": "CN-BJ", "location": "Beijing", "notes": "",
            "actors": [
                {"name": "Cyberspace Administration of China", "role": "authority"},
                {"name": f"Benchmark Platform {i % 500}", "actor_type": "platform", "role": "target", "country": "CN"},
            ],
            "measures": [{"name": "Self-media rectification campaign (2018)", "relation": "enforces"}],
            "sources": [
                {"url": url, "title": f"Report {i}", "outlet": "Example News", "outlet_type": "newspaper",
                 "language": "en", "published_on": day, "published_on_basis": "page", "stance": "supports"},
                {"url": f"https://wire.example.org/bench/{i}/follow-up", "title": f"Follow-up {i}", "outlet": "Example Wire", "outlet_type": "wire_service",
                 "language": "en", "published_on": day, "published_on_basis": "page", "stance": "supports"},
            ],
            "figures": [{"quantity": "accounts-closed", "metric": "accounts_affected", "value": 100 + i, "unit": "count", "qualifier": "exact",
                         "source_url": url, "notes": ""}],
        })
    return out


def fresh_package(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    for name in ("data", "schema"):
        shutil.copytree(REPO / name, folder / name)
    shutil.copy2(REPO / "datapackage.json", folder / "datapackage.json")
    # The benchmark's two outlets get their hosts, as a contributor adds them before `add`.
    hosts = folder / "schema" / "hosts.csv"
    rows = list(csv.reader(io.StringIO(hosts.read_text(encoding="utf-8"))))
    rows[1:] = sorted(rows[1:] + [["news.example.org", "Example News", "outlet_site", "Benchmark host."],
                                  ["wire.example.org", "Example Wire", "outlet_site", "Benchmark host."]])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    hosts.write_text(out.getvalue(), encoding="utf-8")
    return folder


def run_once(n: int, work: Path) -> float:
    batch = work / f"events-{n}.json"
    if not batch.exists():
        batch.write_text(json.dumps(events(n)), encoding="utf-8")
    root = fresh_package(work / "pkg")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(batch), str(root), "--accessed-on", "2026-11-28"],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"add of {n} events failed:\n{result.stderr[-3000:]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="infocontrols-add-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    medians = {}
    print(f"{'events':>8}  {'median s':>9}  runs")
    for n in args.sizes:
        runs = [run_once(n, work) for _ in range(args.repeats)]
        medians[n] = statistics.median(runs)
        print(f"{n:>8,}  {medians[n]:>9.2f}  {', '.join(f'{r:.2f}' for r in runs)}")
    sizes = sorted(medians)
    for small, large in zip(sizes, sizes[1:]):
        print(f"{large:,} / {small:,} events: {medians[large] / medians[small]:.1f}x the time for {large / small:.0f}x the events")
    if 10_000 in medians:
        verdict = "met" if medians[10_000] < 10 else "NOT met"
        print(f"target: 10,000 events added in well under 10 s: {medians[10_000]:.2f} s ({verdict})")
    (work / "results.json").write_text(json.dumps({str(k): v for k, v in medians.items()}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
