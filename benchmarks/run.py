#!/usr/bin/env python3
"""Speed and memory of validate, load and build, against reference peers, in one run.

    python benchmarks/run.py [--sizes 10000 100000 1000000] [--repeats 3] [--out DIR]

For each size it generates a synthetic package (benchmarks/generate.py), then measures, each in
a fresh process, the median wall time and peak memory (RSS) of:
  - `infocontrols validate` against `frictionless validate datapackage.json` (same CSV files);
  - `infocontrols.load("events")` from Parquet against `pyarrow.parquet.read_table(...).to_pandas()`;
  - `infocontrols build` (validation, CSV to Parquet, descriptor).
It prints a table with rows per second and the ratios, checks the targets, and writes the
results to OUT/results.json. Speed is measured here, never asserted in unit tests.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

PY = sys.executable
LOAD_OURS = "import time,sys; import infocontrols as ic; t=time.perf_counter(); f=ic.load('events', root=sys.argv[1]); print(time.perf_counter()-t, len(f))"
LOAD_PEER = "import time,sys; import pyarrow.parquet as pq; t=time.perf_counter(); f=pq.read_table(sys.argv[1]+'/data/events.parquet').to_pandas(); print(time.perf_counter()-t, len(f))"


def measure(cmd: list[str], *, inner: bool = False) -> dict:
    """Run ``cmd``; return wall seconds (or the seconds it prints, with ``inner``) and peak RSS."""
    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if inner:
        wall = float(out.split()[0])
    return {"seconds": wall, "peak_mb": peak / 2**20, "returncode": proc.returncode, "stderr": err[-500:]}


def median_of(cmd, repeats, **kwargs) -> dict:
    runs = [measure(cmd, **kwargs) for _ in range(repeats)]
    return {"seconds": statistics.median(r["seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs),
            "returncodes": sorted({r["returncode"] for r in runs}), "runs": [round(r["seconds"], 3) for r in runs]}


def clean_build_outputs(root: Path) -> None:
    for path in (root / "data").glob("*.parquet"):
        path.unlink()
    for name in ("CITATION.cff", "docs"):
        target = root / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import frictionless
    import pandas
    import pandera
    import polars
    import pyarrow

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "polars": polars.__version__, "pyarrow": pyarrow.__version__,
            "pandas": pandas.__version__, "pandera": pandera.__version__, "frictionless": frictionless.__version__}


def rows_in(root: Path) -> int:
    return sum(max(0, sum(1 for _ in open(p, "rb")) - 1) for p in (root / "data").glob("*.csv"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="where generated packages and results go (default: a temp dir)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="infocontrols-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "repeats": args.repeats, "sizes": {}}
    print(f"machine: {results['machine']}")
    for n in args.sizes:
        root = out / f"pkg-{n}"
        generate(n, root)
        rows = rows_in(root)
        r = {"rows": rows}
        r["validate"] = median_of([PY, "-m", "infocontrols.cli", "validate", str(root)], args.repeats)
        r["frictionless"] = median_of([PY, "-m", "frictionless", "validate", str(root / "datapackage.json")], args.repeats)
        builds = []
        for _ in range(args.repeats):
            clean_build_outputs(root)
            builds.append(measure([PY, "-m", "infocontrols.cli", "build", str(root)]))
        r["build"] = {"seconds": statistics.median(b["seconds"] for b in builds), "peak_mb": max(b["peak_mb"] for b in builds),
                      "returncodes": sorted({b["returncode"] for b in builds})}
        r["load"] = median_of([PY, "-c", LOAD_OURS, str(root)], args.repeats, inner=True)
        r["load_pyarrow"] = median_of([PY, "-c", LOAD_PEER, str(root)], args.repeats, inner=True)
        r["validate_speedup"] = r["frictionless"]["seconds"] / r["validate"]["seconds"]
        r["load_ratio"] = r["load"]["seconds"] / r["load_pyarrow"]["seconds"]
        results["sizes"][n] = r
        print_size(n, r)
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print_summary(results)
    (out / "results.md").write_text(markdown(results), encoding="utf-8")
    print(f"results: {out / 'results.json'} and {out / 'results.md'}")
    return 0


def print_size(n: int, r: dict) -> None:
    print(f"\n{n:,} events ({r['rows']:,} rows in all tables)")
    print(f"  {'task':<26}{'median s':>10}{'peak MB':>10}{'rows/s':>14}  exit")
    for key, label in (("validate", "infocontrols validate"), ("frictionless", "frictionless validate"),
                       ("build", "infocontrols build"), ("load", "load('events')"), ("load_pyarrow", "pyarrow read + to_pandas")):
        m = r[key]
        rows = r["rows"] if key in ("validate", "frictionless", "build") else n
        print(f"  {label:<26}{m['seconds']:>10.3f}{m['peak_mb']:>10.0f}{rows / m['seconds']:>14,.0f}  {m['returncodes']}")
    print(f"  validate is {r['validate_speedup']:.1f}x faster than frictionless; load takes {r['load_ratio']:.2f}x a plain pyarrow read")


def print_summary(results: dict) -> None:
    sizes = results["sizes"]
    print("\ntargets")
    if 1_000_000 in sizes:
        big = sizes[1_000_000]
        print(f"  validate >= 20x frictionless at 1M: {big['validate_speedup']:.1f}x  {'PASS' if big['validate_speedup'] >= 20 else 'FAIL'}")
        print(f"  validate peak memory < 2 GB at 1M: {big['validate']['peak_mb']:.0f} MB  {'PASS' if big['validate']['peak_mb'] < 2048 else 'FAIL'}")
        print(f"  load within 1.5x pyarrow at 1M: {big['load_ratio']:.2f}x  {'PASS' if big['load_ratio'] <= 1.5 else 'FAIL'}")
        if 100_000 in sizes:
            growth = big["validate"]["seconds"] / sizes[100_000]["validate"]["seconds"]
            print(f"  1M run <= 12x the 100k run: {growth:.1f}x  {'PASS' if growth <= 12 else 'FAIL'}")


def markdown(results: dict) -> str:
    """The results as Markdown tables, for docs/performance.md."""
    m = results["machine"]
    out = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, polars {m['polars']}, "
           f"pyarrow {m['pyarrow']}, pandas {m['pandas']}, pandera {m['pandera']}, frictionless {m['frictionless']}. "
           f"Median of {results['repeats']} runs, each in a fresh process; peak is the largest resident set seen.", ""]
    out += ["| events | rows (all tables) | task | median s | peak MB | rows/s |", "|---:|---:|---|---:|---:|---:|"]
    for n, r in results["sizes"].items():
        n = int(n)
        for key, label in (("validate", "`infocontrols validate`"), ("frictionless", "`frictionless validate`"),
                           ("build", "`infocontrols build`"), ("load", "`load('events')`"), ("load_pyarrow", "pyarrow `read_table().to_pandas()`")):
            rows = r["rows"] if key in ("validate", "frictionless", "build") else n
            out.append(f"| {n:,} | {r['rows']:,} | {label} | {r[key]['seconds']:.2f} | {r[key]['peak_mb']:.0f} | {rows / r[key]['seconds']:,.0f} |")
    out += ["", "| events | validate speed-up over frictionless | load time / pyarrow time |", "|---:|---:|---:|"]
    for n, r in results["sizes"].items():
        out.append(f"| {int(n):,} | {r['validate_speedup']:.1f}x | {r['load_ratio']:.2f}x |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
