#!/usr/bin/env python3
"""Speed and memory of validate, load and build, against reference peers, in one run.

    python benchmarks/run.py [--sizes 10000 100000 1000000] [--repeats 3] [--out DIR] [--validate-only]
    python benchmarks/run.py --cold-real [--rounds 21]

First, the inner loop on the real package: a cold `infocontrols validate .` (a fresh process,
as a contributor runs it) against a plain read of the same CSV files with pyarrow in a fresh
process, alternating (ours, peer, ours, peer, ...) so both see the same machine; the target
is at most 2x. `--cold-real` runs only this.

Then, for each size, it generates a synthetic package (benchmarks/generate.py) and measures,
each in a fresh process, the median wall time and peak memory (RSS) of:
  - `infocontrols validate` against a plain pyarrow read of all its tables (alternating runs;
    target: at most 3x) and against `frictionless validate datapackage.json` (same CSV files);
  - `infocontrols.load("events")` from Parquet against `pyarrow.parquet.read_table(...).to_pandas()`;
  - `infocontrols build` (validation, CSV to Parquet, descriptor).
`--validate-only` measures only the first pair. It prints a table with rows per second and the
ratios, checks the targets, and writes the results to OUT/results.json and OUT/results.md.

Our modules are byte-compiled first, as an installed package's are (pip compiles them), so
that an environment with PYTHONDONTWRITEBYTECODE does not charge every run for compiling
them. Peak memory is the largest resident set seen, sampled every 20 ms. Speed is measured
here, never asserted in unit tests.
"""
from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

PY = sys.executable
# `infocontrols` as a contributor runs it: the console script beside this Python, else -m.
_SCRIPT = Path(PY).with_name("infocontrols")
OURS = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-m", "infocontrols.cli"]
# The peer: every table of the package read by pyarrow, in a fresh process, nothing else.
RAW_READ = "import glob, sys, pyarrow.csv as c; [c.read_csv(p) for p in sorted(glob.glob(sys.argv[1] + '/data/*.csv'))]"
TARGET_REAL = 2.0       # cold validate of the real package / raw read
TARGET_GENERATED = 3.0  # full validation of a generated package / raw read
LOAD_OURS = "import time,sys; import infocontrols as ic; t=time.perf_counter(); f=ic.load('events', root=sys.argv[1]); print(time.perf_counter()-t, len(f))"
LOAD_PEER = "import time,sys; import pyarrow.parquet as pq; t=time.perf_counter(); f=pq.read_table(sys.argv[1]+'/data/events.parquet').to_pandas(); print(time.perf_counter()-t, len(f))"


def _watch_rss(pid: int, peak: list[int], done: threading.Event) -> None:
    """Sample the resident set of process ``pid`` every 20 ms, keeping the largest.

    (getrusage's maximum would be exact, but a child forked from this large process inherits
    this process's resident set in it, so small runs would all read as this process's size.
    Only the process itself is sampled: none of the measured commands starts another, and
    listing children scans every process, which on a busy two-core machine took enough CPU
    from the measured command to add a third to its time.)
    """
    try:
        proc = psutil.Process(pid)
        while not done.is_set():
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
            except psutil.Error:
                pass
            done.wait(0.02)
    except psutil.Error:
        pass


def measure(cmd: list[str], *, inner: bool = False) -> dict:
    """Run ``cmd`` in a fresh process; return its wall seconds (or the seconds it prints, with
    ``inner``), its CPU seconds and the largest resident set seen."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak, done = [0], threading.Event()
        watcher = threading.Thread(target=_watch_rss, args=(proc.pid, peak, done), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if inner:
        wall = float(stdout.split()[0])
    return {"seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_mb": peak[0] / 2**20,
            "returncode": proc.returncode, "stderr": stderr[-500:]}


def summarise(runs: list[dict]) -> dict:
    return {"seconds": statistics.median(r["seconds"] for r in runs), "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs), "returncodes": sorted({r["returncode"] for r in runs}),
            "runs": [round(r["seconds"], 3) for r in runs]}


def alternate(commands: dict[str, list[str]], rounds: int) -> dict:
    """Run the commands in turn, ``rounds`` times (a, b, a, b, ...), each in a fresh process, so
    that a machine busy for a while slows each alike; return each one's summary."""
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            runs[name].append(measure(cmd))
    return {name: summarise(r) for name, r in runs.items()}


def versus_raw_read(root: Path, rounds: int) -> dict:
    """Cold `infocontrols validate ROOT` against a plain pyarrow read of ROOT's tables."""
    pair = alternate({"validate": [*OURS, "validate", str(root)], "raw_read": [PY, "-c", RAW_READ, str(root)]}, rounds)
    pair["ratio"] = pair["validate"]["seconds"] / pair["raw_read"]["seconds"]
    pair["cpu_ratio"] = pair["validate"]["cpu_seconds"] / pair["raw_read"]["cpu_seconds"]
    return pair


def byte_compile() -> None:
    """Write our modules' bytecode, as installing the package does (see the module docstring)."""
    import infocontrols

    compileall.compile_dir(Path(infocontrols.__file__).parent, quiet=1)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cold_real(rounds: int) -> dict:
    r = versus_raw_read(REPO, rounds)
    print(f"\nreal package ({REPO}), cold, {rounds} alternating rounds")
    print_pair(r, TARGET_REAL)
    return r


def print_pair(r: dict, target: float) -> None:
    for key, label in (("validate", "infocontrols validate"), ("raw_read", "pyarrow read of every table")):
        m = r[key]
        print(f"  {label:<30} median {m['seconds']:.3f} s (CPU {m['cpu_seconds']:.3f} s), peak {m['peak_mb']:.0f} MB, exit {m['returncodes']}")
    verdict = "PASS" if r["ratio"] <= target else "FAIL"
    print(f"  validate / raw read: {r['ratio']:.2f}x wall ({r['cpu_ratio']:.2f}x CPU); target <= {target:g}x: {verdict}")


def median_of(cmd, repeats, **kwargs) -> dict:
    return summarise([measure(cmd, **kwargs) for _ in range(repeats)])


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
            "load_average": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
            "python": platform.python_version(), "polars": polars.__version__, "pyarrow": pyarrow.__version__,
            "pandas": pandas.__version__, "pandera": pandera.__version__, "frictionless": frictionless.__version__}


def rows_in(root: Path) -> int:
    return sum(max(0, sum(1 for _ in open(p, "rb")) - 1) for p in (root / "data").glob("*.csv"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="where generated packages and results go (default: a temp dir)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="alternating rounds of validate against the raw read (default: 21 for the real package, --repeats for generated ones)")
    parser.add_argument("--cold-real", action="store_true", help="measure only cold validation of the real package against a raw read")
    parser.add_argument("--validate-only", action="store_true", help="for generated packages, measure only validate against the raw read")
    args = parser.parse_args(argv)
    byte_compile()
    out = args.out or Path(tempfile.mkdtemp(prefix="infocontrols-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "date": dt.date.today().isoformat(), "commit": git_commit(), "repeats": args.repeats, "sizes": {}}
    print(f"machine: {results['machine']}\ncommit: {results['commit']}")
    results["real"] = cold_real(args.rounds or 21)
    results["real"]["rounds"] = args.rounds or 21
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    if args.cold_real:
        (out / "results.md").write_text(markdown(results), encoding="utf-8")
        print(f"results: {out / 'results.json'} and {out / 'results.md'}")
        return 0
    for n in args.sizes:
        root = out / f"pkg-{n}"
        generate(n, root)
        rows = rows_in(root)
        r = {"rows": rows}
        pair = versus_raw_read(root, args.rounds or args.repeats)
        r["validate"], r["raw_read"], r["raw_ratio"], r["raw_cpu_ratio"] = pair["validate"], pair["raw_read"], pair["ratio"], pair["cpu_ratio"]
        if not args.validate_only:
            r["frictionless"] = median_of([PY, "-m", "frictionless", "validate", str(root / "datapackage.json")], args.repeats)
            builds = []
            for _ in range(args.repeats):
                clean_build_outputs(root)
                builds.append(measure([*OURS, "build", str(root)]))
            r["build"] = summarise(builds)
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


TASKS = (("validate", "infocontrols validate"), ("raw_read", "pyarrow read of every table"), ("frictionless", "frictionless validate"),
         ("build", "infocontrols build"), ("load", "load('events')"), ("load_pyarrow", "pyarrow read + to_pandas"))
PER_ROW = ("validate", "raw_read", "frictionless", "build")  # tasks over every table; the others read events only


def print_size(n: int, r: dict) -> None:
    print(f"\n{n:,} events ({r['rows']:,} rows in all tables)")
    print(f"  {'task':<30}{'median s':>10}{'peak MB':>10}{'rows/s':>14}  exit")
    for key, label in TASKS:
        if key not in r:
            continue
        m = r[key]
        rows = r["rows"] if key in PER_ROW else n
        print(f"  {label:<30}{m['seconds']:>10.3f}{m['peak_mb']:>10.0f}{rows / m['seconds']:>14,.0f}  {m['returncodes']}")
    print(f"  validate takes {r['raw_ratio']:.2f}x a raw read of every table ({r['raw_cpu_ratio']:.2f}x its CPU time)")
    if "validate_speedup" in r:
        print(f"  validate is {r['validate_speedup']:.1f}x faster than frictionless; load takes {r['load_ratio']:.2f}x a plain pyarrow read")


def print_summary(results: dict) -> None:
    sizes = results["sizes"]
    print("\ntargets")
    real = results["real"]
    print(f"  cold validate of the real package within {TARGET_REAL:g}x a raw read: {real['ratio']:.2f}x  {'PASS' if real['ratio'] <= TARGET_REAL else 'FAIL'}")
    for n, r in sizes.items():
        print(f"  validate at {int(n):,} events within {TARGET_GENERATED:g}x a raw read: {r['raw_ratio']:.2f}x  {'PASS' if r['raw_ratio'] <= TARGET_GENERATED else 'FAIL'}")
    if 1_000_000 in sizes and "validate_speedup" in sizes[1_000_000]:
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
    out = [f"Measured on {results['date']} at commit `{results['commit']}`. Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
           f"load average {m['load_average']} at the start; Python {m['python']}, polars {m['polars']}, "
           f"pyarrow {m['pyarrow']}, pandas {m['pandas']}, pandera {m['pandera']}, frictionless {m['frictionless']}. "
           "Each run in a fresh process; medians; peak is the largest resident set seen (sampled every 20 ms).", ""]
    real = results.get("real")
    if real:
        out += [f"Cold validation of the real package against a raw read, {real['rounds']} alternating rounds:", "",
                "| command | median s | CPU s | peak MB |", "|---|---:|---:|---:|"]
        out += [f"| {label} | {real[key]['seconds']:.3f} | {real[key]['cpu_seconds']:.3f} | {real[key]['peak_mb']:.0f} |"
                for key, label in (("validate", "`infocontrols validate .`"), ("raw_read", "pyarrow `read_csv` of every table"))]
        out += ["", f"Ratio {real['ratio']:.2f}x wall ({real['cpu_ratio']:.2f}x CPU); target at most {TARGET_REAL:g}x: "
                + ("met." if real["ratio"] <= TARGET_REAL else "not met."), ""]
    if results["sizes"]:
        out += ["| events | rows (all tables) | task | median s | peak MB | rows/s |", "|---:|---:|---|---:|---:|---:|"]
        for n, r in results["sizes"].items():
            n = int(n)
            for key, label in (("validate", "`infocontrols validate`"), ("raw_read", "pyarrow `read_csv` of every table"),
                               ("frictionless", "`frictionless validate`"), ("build", "`infocontrols build`"),
                               ("load", "`load('events')`"), ("load_pyarrow", "pyarrow `read_table().to_pandas()`")):
                if key not in r:
                    continue
                rows = r["rows"] if key in PER_ROW else n
                out.append(f"| {n:,} | {r['rows']:,} | {label} | {r[key]['seconds']:.2f} | {r[key]['peak_mb']:.0f} | {rows / r[key]['seconds']:,.0f} |")
        out += ["", f"| events | validate / raw read (target <= {TARGET_GENERATED:g}x) | validate speed-up over frictionless | load time / pyarrow time |",
                "|---:|---:|---:|---:|"]
        for n, r in results["sizes"].items():
            speedup = f"{r['validate_speedup']:.1f}x" if "validate_speedup" in r else "not run"
            load = f"{r['load_ratio']:.2f}x" if "load_ratio" in r else "not run"
            out.append(f"| {int(n):,} | {r['raw_ratio']:.2f}x | {speedup} | {load} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
