#!/usr/bin/env python3
"""Write a synthetic InfoControls package of any size, with the real schemas and vocabularies.

    python benchmarks/generate.py --events 1000000 --out /tmp/ic-1m [--errors K] [--seed 1]

The package is valid by construction: ~1% as many actors as events, ~0.5% measures, two sources
per event, link tables and figures, text with Chinese characters. With ``--errors K`` it injects K
violations of each injectable error rule, each one touching only its own rule, and writes the
places to ``injected.json`` ({rule: [[file, line], ...]}). Output never goes into ``data/``.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parents[1]
OUTLETS = [f"Outlet {n} 新闻" for n in range(60)]
SUBDIVISIONS = ["CN-BJ", "CN-SH", "CN-GD", "CN-ZJ", "CN-XJ", "CN-GX", "CN-SC", "CN-HB", "CN-JS", "CN-CQ"]


def vocab(name: str) -> list[str]:
    with (REPO / "schema" / "vocabularies.csv").open(encoding="utf-8") as handle:
        return [r["code"] for r in csv.DictReader(handle) if r["vocabulary"] == name]


def ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(f"{prefix}-g", np.char.zfill(np.arange(n).astype(str), width)).astype(object)


def pick(rng, values: list[str], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def iso(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def write(path: Path, columns: dict[str, np.ndarray]) -> None:
    table = pa.table({k: pa.array(np.asarray(v, dtype=object), type=pa.string(), from_pandas=True) for k, v in columns.items()})
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed", delimiter=","))


def generate(n_events: int, out: Path, errors: int = 0, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    shutil.copytree(REPO / "schema", out / "schema")
    n_actors = max(10, n_events // 100)
    n_measures = max(5, n_events // 200)
    n_sources = 2 * n_events

    # events
    event_id = ids("ev", n_events, 8)
    start = np.datetime64("2017-01-01") + rng.integers(0, 4 * 365, n_events)
    events = {
        "event_id": event_id,
        "title": np.char.add("Synthetic event 合成事件 ", np.arange(n_events).astype(str)).astype(object),
        "summary": np.full(n_events, "平台被要求清理账号 A regulator ordered platforms to remove accounts.", dtype=object),
        "event_type": pick(rng, vocab("event_type"), n_events),
        "control_domain": pick(rng, vocab("control_domain"), n_events),
        "date_start": iso(start).astype(object), "date_end": iso(start).astype(object),
        "date_precision": np.full(n_events, "day", dtype=object),
        "date_basis": np.full(n_events, "occurred", dtype=object),
        "country": np.full(n_events, "CN", dtype=object),
        "admin1": pick(rng, SUBDIVISIONS, n_events),
        "location": np.full(n_events, None, dtype=object),
        "evidence_status": np.full(n_events, "reported", dtype=object),
        "notes": np.full(n_events, None, dtype=object),
    }
    # actors (every one takes part in an event)
    actors = {
        "actor_id": ids("ac", n_actors, 7),
        "name": np.char.add("Actor ", np.arange(n_actors).astype(str)).astype(object),
        "name_zh": np.full(n_actors, "机构", dtype=object),
        "actor_type": pick(rng, vocab("actor_type"), n_actors),
        "country": np.full(n_actors, "CN", dtype=object),
        "parent_actor_id": np.full(n_actors, None, dtype=object),
        "wikidata_id": np.full(n_actors, None, dtype=object),
        "aliases": np.full(n_actors, None, dtype=object),
        "description": np.full(n_actors, "A synthetic actor.", dtype=object),
    }
    measures = {
        "measure_id": ids("me", n_measures, 7),
        "name": np.char.add("Measure ", np.arange(n_measures).astype(str)).astype(object),
        "name_zh": np.full(n_measures, "规定", dtype=object),
        "measure_type": pick(rng, vocab("measure_type"), n_measures),
        "control_domain": pick(rng, vocab("control_domain"), n_measures),
        "jurisdiction": np.full(n_measures, "CN", dtype=object),
        "authority_actor_id": actors["actor_id"][rng.integers(0, n_actors, n_measures)].astype(object),
        "status": pick(rng, vocab("status"), n_measures),
        "date_announced": np.full(n_measures, "2018-01-01", dtype=object),
        "date_effective": np.full(n_measures, "2018-02-01", dtype=object),
        "date_ended": np.full(n_measures, None, dtype=object),
        "description": np.full(n_measures, "A synthetic measure.", dtype=object),
    }
    # two sources per event, published on or after the event
    source_event = np.repeat(np.arange(n_events), 2)
    published = np.repeat(start, 2) + rng.integers(0, 30, n_sources)
    sources = {
        "source_id": ids("so", n_sources, 8),
        "url": np.char.add("https://example.org/news/", np.arange(n_sources).astype(str)).astype(object),
        "title": np.full(n_sources, "网信办通报 Report title", dtype=object),
        # both sources of an event come from one outlet, none official, so every event is 'reported'
        "outlet": np.repeat(pick(rng, OUTLETS, n_events), 2),
        "original_outlet": np.full(n_sources, None, dtype=object),
        "outlet_type": np.repeat(pick(rng, [t for t in vocab("outlet_type") if t != "government"], n_events), 2),
        "language": np.full(n_sources, "zh-Hans", dtype=object),
        "published_on": iso(published).astype(object),
        "published_on_basis": np.full(n_sources, "page", dtype=object),
        "accessed_on": np.full(n_sources, "2026-11-01", dtype=object),
        "archive_url": np.full(n_sources, None, dtype=object),
        "notes": np.full(n_sources, None, dtype=object),
    }
    event_sources = {"event_id": event_id[source_event].astype(object), "source_id": sources["source_id"].astype(object),
                     "stance": np.full(n_sources, "supports", dtype=object), "note": np.full(n_sources, None, dtype=object)}
    # one actor per event, cycling so every actor is used; roles sorted within the key
    actor_of = np.arange(n_events) % n_actors
    event_actors = {"event_id": event_id.astype(object), "actor_id": actors["actor_id"][actor_of].astype(object),
                    "role": pick(rng, vocab("role"), n_events)}
    linked = np.arange(0, n_events, 2)
    event_measures = {"event_id": event_id[linked].astype(object),
                      "measure_id": measures["measure_id"][np.arange(len(linked)) % n_measures].astype(object),
                      "relation": pick(rng, vocab("relation"), len(linked))}
    with_figure = np.arange(0, n_events, 3)
    n_figures = len(with_figure)
    figures = {
        "figure_id": ids("fi", n_figures, 8),
        "event_id": event_id[with_figure].astype(object),
        "quantity": np.full(n_figures, "accounts-closed", dtype=object),
        "metric": np.full(n_figures, "accounts_affected", dtype=object),
        "value": rng.integers(1, 100000, n_figures).astype(str).astype(object),
        "unit": np.full(n_figures, "count", dtype=object),
        "qualifier": pick(rng, vocab("qualifier"), n_figures),
        "source_id": sources["source_id"][2 * with_figure].astype(object),
        "notes": np.full(n_figures, None, dtype=object),
    }
    retired = {"retired_id": np.array([], dtype=object), "replaced_by": np.array([], dtype=object),
               "retired_on": np.array([], dtype=object), "reason": np.array([], dtype=object)}
    # a reference checklist: one entry per 100 events, each covered by its event
    listed = np.arange(0, n_events, 100)
    n_listed = len(listed)
    checklist = {
        "entry_id": np.array([f"ck-2019-entry-{i:08d}" for i in range(n_listed)], dtype=object),
        "title": np.array([f"Notable event {i}" for i in range(n_listed)], dtype=object),
        "date": np.full(n_listed, "2019", dtype=object),
        "kind": pick(rng, vocab("control_domain"), n_listed),
        "overview_url": np.array([f"https://example.org/overview/{i}" for i in range(n_listed)], dtype=object),
        "overview_title": np.full(n_listed, "Year in review", dtype=object),
        "overview_kind": pick(rng, vocab("overview_kind"), n_listed),
        "event_id": event_id[listed].astype(object),
        "coverage": np.full(n_listed, "covered", dtype=object),
        "reason": np.full(n_listed, None, dtype=object),
    }
    # every source is on one host, a platform (many publishers), so its sources may name any outlet
    hosts = {"host": np.array(["example.org"], dtype=object), "outlet": np.array(["Example platform"], dtype=object),
             "kind": np.array(["platform"], dtype=object), "note": np.array(["The host of the synthetic sources."], dtype=object)}
    tables = {"events": events, "actors": actors, "measures": measures, "sources": sources,
              "event_actors": event_actors, "event_measures": event_measures, "event_sources": event_sources,
              "figures": figures, "checklist": checklist, "retired_ids": retired, "hosts": hosts}
    injected = inject(tables, errors, rng, n_actors) if errors else {}
    paths = {r["name"]: r["path"] for r in json.loads((REPO / "schema" / "package.json").read_text(encoding="utf-8"))["resources"]}
    for name, columns in tables.items():
        write(out / paths.get(name, f"data/{name}.csv"), columns)
    metadata = json.loads((REPO / "schema" / "package.json").read_text(encoding="utf-8"))
    metadata["name"] = "infocontrols-synthetic"
    metadata["title"] = f"Synthetic InfoControls package ({n_events:,} events)"
    (out / "schema" / "package.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "datapackage.json").write_text(json.dumps(descriptor(metadata), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "injected.json").write_text(json.dumps(injected, indent=1) + "\n", encoding="utf-8")
    return injected


def descriptor(metadata: dict) -> dict:
    """A CSV-only descriptor, schemas by reference, so both validators read the same files."""
    resources = []
    for r in metadata["resources"]:
        resource = {"name": r["name"], "path": r["path"], "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                    "profile": "tabular-data-resource", "schema": f"schema/{r['name']}.json"}
        if r.get("emptyAllowed"):
            resource["emptyAllowed"] = True
        resources.append(resource)
    return {"profile": "tabular-data-package", "name": metadata["name"], "title": metadata["title"],
            "version": metadata["version"], "resources": resources}


def inject(t: dict, k: int, rng, n_actors: int) -> dict:
    """Inject k violations of each rule; each touches only its own rule. Returns rule -> places."""
    places: dict[str, list] = {}
    n_events = len(t["events"]["event_id"])
    # Rows are chosen from disjoint stripes so that no two injections meet.
    used: set[int] = set()

    def rows(n: int, stop: int, step: int = 1) -> list[int]:
        chosen = []
        while len(chosen) < n:
            i = int(rng.integers(0, stop))
            if i not in used and i % step == 0:
                used.add(i)
                chosen.append(i)
        return sorted(chosen)

    def mark(rule, file, indices):
        places.setdefault(rule, []).extend([[file, i + 2] for i in indices])

    ev, so, fi, ac = t["events"], t["sources"], t["figures"], t["actors"]
    # events (avoid events that carry figures, i % 3 == 0, so links stay intact; avoid odd/even clashes)
    def event_rows(n):
        return rows(n, n_events, 1)

    for rule, column, value in (("REQ001", "title", None), ("VOC001", "event_type", "nonsense"),
                                ("TXT001", "location", "Cafe\u0301"), ("TXT002", "summary", "zero\u200bwidth"),
                                ("TXT003", "notes", " padded"), ("TXT004", "notes", "=1+1"), ("ISO002", "admin1", "CN-ZZ"),
                                ("EVD001", "evidence_status", "disputed")):
        chosen = event_rows(k)
        for i in chosen:
            ev[column][i] = value
        mark(rule, "data/events.csv", chosen)
    chosen = event_rows(k)
    for i in chosen:
        ev["date_end"][i] = ev["date_start"][i][:8] + "32"
    mark("DATE001", "data/events.csv", chosen)
    chosen = event_rows(k)
    for i in chosen:
        day = dt.date.fromisoformat(ev["date_start"][i])
        ev["date_end"][i] = (day - dt.timedelta(days=1)).isoformat()
    mark("DATE002", "data/events.csv", chosen)
    chosen = event_rows(k)
    for i in chosen:
        day = dt.date.fromisoformat(ev["date_start"][i])
        ev["date_end"][i] = (day + dt.timedelta(days=1)).isoformat()
    mark("DATE003", "data/events.csv", chosen)
    chosen = event_rows(k)
    for i in chosen:  # in the future; its sources undated so DATE006 does not also fire
        ev["date_start"][i] = ev["date_end"][i] = "2099-01-01"
        so["published_on"][2 * i] = so["published_on"][2 * i + 1] = None
        so["published_on_basis"][2 * i] = so["published_on_basis"][2 * i + 1] = "none"
    mark("DATE004", "data/events.csv", chosen)
    chosen = event_rows(k)
    for i in chosen:  # after every source, before today
        ev["date_start"][i] = ev["date_end"][i] = "2025-06-01"
    mark("DATE006", "data/events.csv", chosen)
    chosen = [i for i in event_rows(3 * k) if i % 3 != 0][:k]
    drop = set(chosen)
    keep = np.array([int(j // 2) not in drop for j in range(len(t["event_sources"]["event_id"]))])
    for column in t["event_sources"]:
        t["event_sources"][column] = t["event_sources"][column][keep]
    mark("SRC001", "data/events.csv", chosen)
    # sources (avoid the rows of events touched above)
    def source_rows(n):
        out = []
        while len(out) < n:
            j = int(rng.integers(0, len(so["source_id"])))
            if j // 2 not in used and j not in out:
                used.add(j // 2)
                out.append(j)
        return sorted(out)

    chosen = source_rows(k)
    for j in chosen:
        so["url"][j] = f"https://example.org/news/ {j}"
    mark("SRC003", "data/sources.csv", chosen)
    chosen = source_rows(k)
    for j in chosen:
        so["archive_url"][j] = f"https://example.org/archive/{j}"
    mark("SRC005", "data/sources.csv", chosen)
    chosen = source_rows(k)
    for j in chosen:
        so["language"][j] = "english"
    mark("ISO003", "data/sources.csv", chosen)
    chosen = source_rows(k)
    for j in chosen:
        so["accessed_on"][j] = "2099-01-01"
        so["published_on"][j] = None
        so["published_on_basis"][j] = "none"
    mark("DATE005", "data/sources.csv", chosen)
    chosen = [j for j in source_rows(3 * k) if j > 0 and (j - 1) // 2 not in used][:k]
    for j in chosen:
        so["url"][j] = so["url"][j - 1]
    mark("UNQ001", "data/sources.csv", chosen)
    chosen = source_rows(k)
    for j in chosen:
        so["url"][j] = f"https://unlisted.example.net/news/{j}"
    mark("HOST001", "data/sources.csv", chosen)
    # figures
    chosen = rows(k, len(fi["figure_id"]))
    for i in chosen:
        fi["value"][i] = "-1"
    mark("RNG001", "data/figures.csv", chosen)
    rest = [i for i in range(len(fi["figure_id"])) if i not in set(chosen)]
    rng.shuffle(rest)
    a, b, c = sorted(rest[:k]), sorted(rest[k:2 * k]), sorted(rest[2 * k:3 * k])
    for i in a:
        fi["value"][i] = "many"
    mark("TYPE001", "data/figures.csv", a)
    for i in b:
        fi["figure_id"][i] = fi["figure_id"][i] + "_x"
    mark("KEY002", "data/figures.csv", b)
    for i in c:  # the event's other source is linked, this one is not
        event = int(fi["event_id"][i][4:])
        fi["source_id"][i] = so["source_id"][2 * ((event + 1) % n_events)]
    mark("SRC002", "data/figures.csv", c)
    # actors
    chosen = rows(k, n_actors)
    for i in chosen:
        ac["country"][i] = "XX"
    mark("ISO001", "data/actors.csv", chosen)
    chosen = sorted(set(range(n_actors)) - set(chosen))[:k]
    for i in chosen:
        ac["wikidata_id"][i] = "Qx"
    mark("PAT001", "data/actors.csv", chosen)
    # event_actors: dangling actor IDs and duplicated keys
    ea = t["event_actors"]
    n_links = len(ea["event_id"])
    chosen = rows(k, n_links)
    for i in chosen:
        ea["actor_id"][i] = "ac-missing-actor"
    mark("KEY003", "data/event_actors.csv", chosen)
    dup = rows(k, n_links - 1)
    for i in dup:
        for column in ea:
            ea[column][i + 1] = ea[column][i]
    mark("KEY001", "data/event_actors.csv", [i + 1 for i in dup])
    # retired IDs: k retired actors still present, k retirements pointing at nothing
    retired_actors = sorted(set(range(n_actors)) - used)[-k:]
    rows_r = [[ac["actor_id"][i], None, "2026-01-01", "test"] for i in retired_actors]
    rows_r += [[f"ev-zz-retired-{n}", f"ev-zz-missing-{n}", "2026-01-01", "test"] for n in range(k)]
    rows_r.sort(key=lambda r: r[0])
    r = t["retired_ids"]
    for n, column in enumerate(r):
        r[column] = np.array([row[n] for row in rows_r], dtype=object)
    mark("KEY004", "data/actors.csv", retired_actors)
    mark("KEY006", "data/retired_ids.csv", [i for i, row in enumerate(rows_r) if row[1]])
    return places


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--errors", type=int, default=0, help="inject K violations of each injectable rule")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out == (REPO / "data").resolve() or REPO / "data" in out.parents or out == REPO:
        parser.error("refusing to write into the project's data/ folder")
    injected = generate(args.events, out, args.errors, args.seed)
    print(f"wrote {args.events:,} events to {out}" + (f"; injected {sum(map(len, injected.values())):,} errors" if injected else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
