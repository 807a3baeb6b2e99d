"""Hosts, outlets and copies: schema/hosts.csv, rules HOST001-HOST004, `add`, and how copies are labelled.

Expected values are computed here from the CSV files with the standard library (csv,
urllib.parse), not with infocontrols.hosts, so that a mistake there cannot hide itself.
"""
from __future__ import annotations

import collections
import csv
import json
import re
import sqlite3
from urllib.parse import urlsplit

import pytest
from markupsafe import escape

import infocontrols as ic
from infocontrols.hosts import attribution, covering_host, url_host

from conftest import ROOT

HOSTS_CSV = ROOT / "schema" / "hosts.csv"
SOURCES_CSV = ROOT / "data" / "sources.csv"
AUDIT_LOG = ROOT / "docs" / "audit" / "2026-12" / "hosts.md"


def read(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def host_of(url: str) -> str:
    """The host as the data model defines it, by the standard library's reading of the URL."""
    host = urlsplit(url).hostname.rstrip(".")
    return host[4:] if host.startswith("www.") else host


HOSTS = {row["host"]: row for row in read(HOSTS_CSV)}
SOURCES = read(SOURCES_CSV)


def kind_of(source: dict) -> str:
    return HOSTS[host_of(source["url"])]["kind"]


# ---------------------------------------------------------------- the table itself
def test_one_row_per_host_used_and_no_other():
    rows = read(HOSTS_CSV)
    used = {host_of(s["url"]) for s in SOURCES}
    assert len(rows) == len(HOSTS)  # no host twice
    assert set(HOSTS) == used


def test_hosts_are_written_lowercase_without_www_and_sorted():
    hosts = [row["host"] for row in read(HOSTS_CSV)]
    assert hosts == sorted(hosts)
    assert all(h == h.lower() and not h.startswith("www.") and not h.endswith(".") for h in hosts)


def test_every_kind_is_in_the_vocabulary_with_a_definition():
    codes = {r["code"]: r for r in read(ROOT / "schema" / "vocabularies.csv") if r["vocabulary"] == "host_kind"}
    assert set(codes) == {"outlet_site", "copy_site", "platform"}
    assert all(r["label"] and len(r["definition"]) > 40 for r in codes.values())
    assert {row["kind"] for row in HOSTS.values()} == set(codes)


def test_sources_on_outlet_and_copy_sites_give_the_hosts_outlet():
    wrong = [(s["source_id"], s["outlet"]) for s in SOURCES
             if kind_of(s) != "platform" and s["outlet"] != HOSTS[host_of(s["url"])]["outlet"]]
    assert wrong == []


def test_each_host_has_one_outlet_name_in_the_sources():
    names = collections.defaultdict(set)
    for s in SOURCES:
        if kind_of(s) != "platform":
            names[host_of(s["url"])].add(s["outlet"])
    assert {h: n for h, n in names.items() if len(n) > 1} == {}


def test_copy_sites_are_not_named_with_descriptors_their_kind_now_records():
    assert not [s["outlet"] for s in SOURCES if re.search(r"\((mirror|spam site|copy|aggregator|forum)\)", s["outlet"])]


def test_copies_without_an_original_are_exactly_those_the_audit_log_lists():
    """Every copy names whose text it is, except the copies listed (with what their record says)
    in docs/audit/2026-12/hosts.md; a copy that gains an original_outlet must leave the list."""
    missing = {s["source_id"] for s in SOURCES if kind_of(s) == "copy_site" and not s["original_outlet"]}
    text = AUDIT_LOG.read_text(encoding="utf-8")
    section = text.split("## Copies that do not say whose text they are", 1)[1]
    listed = set(re.findall(r"^\| `(so-[a-z0-9-]+)` \|", section, re.M))
    assert listed == missing
    assert f": {len(missing)} sources (warnings HOST003)" in text


def test_a_syndicating_outlet_is_not_a_copy_site():
    # The Straits Times carries AFP, Reuters and others: syndication, not copying.
    assert HOSTS["straitstimes.com"]["kind"] == "outlet_site"
    assert any(s["original_outlet"] for s in SOURCES if host_of(s["url"]) == "straitstimes.com")


# ---------------------------------------------------------------- the real package
def test_real_package_has_no_host_errors_and_one_warning_per_unattributed_copy(real_report):
    assert not [f for f in real_report.errors if f.rule.startswith("HOST")]
    lines = {s["source_id"]: i + 2 for i, s in enumerate(SOURCES)}
    expected = {lines[s["source_id"]] for s in SOURCES if kind_of(s) == "copy_site" and not s["original_outlet"]}
    assert {f.line for f in real_report.by_rule("HOST003")} == expected
    assert not real_report.by_rule("HOST004")


# ---------------------------------------------------------------- matching hosts
@pytest.mark.parametrize("url, host", [
    ("https://www.Example.com/a", "example.com"),
    ("http://example.com./a", "example.com"),
    ("https://user@news.example.com:8443/a?b#c", "news.example.com"),
    ("https://www2.example.com/", "www2.example.com"),
    ("ftp:/nothing", None),
    ("", None),
])
def test_url_host(url, host):
    assert url_host(url) == host


def test_url_host_reads_every_real_url_as_the_standard_library_does():
    assert [url_host(s["url"]) for s in SOURCES] == [host_of(s["url"]) for s in SOURCES]


def test_the_longest_listed_parent_domain_covers_a_host():
    listed = {"example.com", "news.example.com", "co.uk"}
    assert covering_host("example.com", listed) == "example.com"
    assert covering_host("a.news.example.com", listed) == "news.example.com"
    assert covering_host("b.example.com", listed) == "example.com"
    assert covering_host("example.com.evil.cn", listed) is None
    assert covering_host("notexample.com", listed) is None
    assert covering_host("uk", {"uk"}) is None  # a bare top-level domain never covers anything


def test_attribution_labels():
    assert attribution("ming7.cn", "China Daily", "ming7.cn", "copy_site") == "copy on ming7.cn of China Daily's text"
    assert attribution("x.cn", None, "m.x.cn", "copy_site") == "copy on m.x.cn; whose text it is is not recorded"
    assert attribution("The Straits Times", "AFP", "straitstimes.com", "outlet_site") == "The Straits Times, carrying AFP's text"
    assert attribution("Reuters", None, "reuters.com", "outlet_site") == "Reuters"
    assert attribution("PressReader", None, "pressreader.com", "platform") == "PressReader"


# ---------------------------------------------------------------- each rule: fires, and passes
def first_source(pkg, kind, *, original=None):
    rows = pkg.rows("sources")
    head = rows[0]
    for i, r in enumerate(rows[1:]):
        s = dict(zip(head, r))
        if HOSTS[host_of(s["url"])]["kind"] == kind and (original is None or bool(s["original_outlet"]) == original):
            return i, s
    raise AssertionError(f"no source on a {kind} host")


def add_host_row(pkg, host, outlet, kind, note=""):
    rows = pkg.rows("hosts")
    rows.append([host, outlet, kind, note])
    rows[1:] = sorted(rows[1:])
    pkg.write_rows("hosts", rows)
    return 1 + [r[0] for r in rows].index(host)


def test_host001_fires_for_an_unlisted_host(package):
    line = package.set_cell("sources", 0, "url", "https://www.unlisted-host.example.net/x")
    [hit] = package.validate().by_rule("HOST001")
    assert (hit.file, hit.line, hit.column, hit.value) == ("data/sources.csv", line, "url", "unlisted-host.example.net")
    assert "host 'unlisted-host.example.net' is not in schema/hosts.csv: add a row" in hit.message and hit.severity == "error"


def test_host001_passes_a_subdomain_of_a_listed_host(package):
    i, s = first_source(package, "outlet_site")
    package.set_cell("sources", i, "url", f"https://brand-new-section.{host_of(s['url'])}/page")
    report = package.validate()
    assert not report.by_rule("HOST001") and not report.by_rule("HOST002")
    # ... and a host that only ends with a listed host's name is not covered by it
    package.set_cell("sources", i, "url", f"https://not{host_of(s['url'])}/page")
    assert package.validate().by_rule("HOST001")


def test_host001_fires_for_a_row_written_with_www(package):
    line = add_host_row(package, "www.example.net", "Example", "outlet_site")
    hits = [f for f in package.validate().by_rule("HOST001") if f.file == "schema/hosts.csv"]
    assert [(f.line, f.column, f.value) for f in hits] == [(line, "host", "www.example.net")]
    assert "use 'example.net'" in hits[0].message


def test_host002_fires_on_an_outlet_site_with_a_did_you_mean(package):
    i, s = first_source(package, "outlet_site")
    expected = HOSTS[host_of(s["url"])]["outlet"]
    line = package.set_cell("sources", i, "outlet", expected.upper())
    [hit] = package.validate().by_rule("HOST002")
    assert (hit.file, hit.line, hit.column, hit.value) == ("data/sources.csv", line, "outlet", expected.upper())
    assert hit.message.startswith(f"outlet {expected.upper()!r} but schema/hosts.csv maps host {host_of(s['url'])!r} to {expected!r}: did you mean {expected!r}?")


def test_host002_fires_on_a_copy_site_and_says_what_to_set(package):
    i, s = first_source(package, "copy_site", original=True)
    expected = HOSTS[host_of(s["url"])]["outlet"]
    package.set_cell("sources", i, "outlet", s["original_outlet"])  # credited to the outlet it copies
    [hit] = package.validate().by_rule("HOST002")
    assert f"maps host {host_of(s['url'])!r} to {expected!r}" in hit.message
    assert "original_outlet" in hit.message


def test_host002_passes_any_publisher_on_a_platform(package):
    i, s = first_source(package, "platform")
    package.set_cell("sources", i, "outlet", "A Publisher Named On The Page")
    assert not package.validate().by_rule("HOST002")


def test_host003_fires_for_a_copy_without_original_and_not_for_an_outlet_site(package):
    i, s = first_source(package, "copy_site", original=True)
    line = package.set_cell("sources", i, "original_outlet", "")
    hits = [f for f in package.validate().by_rule("HOST003") if f.line == line]
    assert [(f.column, f.value, f.severity) for f in hits] == [("original_outlet", s["source_id"], "warning")]
    j, t = first_source(package, "outlet_site", original=True)
    line = package.set_cell("sources", j, "original_outlet", "")
    assert not [f for f in package.validate().by_rule("HOST003") if f.line == line]


def test_host004_fires_for_an_unused_row_and_not_for_a_row_used_through_a_subdomain(package):
    line = add_host_row(package, "unused-host.example.net", "Unused", "outlet_site")
    hits = package.validate().by_rule("HOST004")
    assert [(f.file, f.line, f.value, f.severity) for f in hits] == [("schema/hosts.csv", line, "unused-host.example.net", "warning")]
    # The only source on a host now sits on a subdomain: the row still covers it.
    counts = collections.Counter(host_of(s["url"]) for s in SOURCES)
    i, s = next((i, s) for i, s in enumerate(SOURCES) if counts[host_of(s["url"])] == 1 and HOSTS[host_of(s["url"])]["kind"] == "outlet_site")
    package.set_cell("sources", i, "url", f"https://sub.{host_of(s['url'])}/x")
    assert [f.value for f in package.validate().by_rule("HOST004")] == ["unused-host.example.net"]


# ---------------------------------------------------------------- infocontrols add
NEW_EVENT = {
    "title": "Test regulator summons a platform over a copied notice",
    "summary": "A test event for the hosts checks of add.",
    "event_type": "regulator_summons", "control_domain": "platform_regulation",
    "date_start": "2019-03-04", "date_end": "2019-03-04", "date_precision": "day", "date_basis": "occurred",
    "admin1": "CN-BJ", "location": "Beijing", "notes": "",
    "actors": [{"name": "Cyberspace Administration of China", "actor_type": "government_agency", "role": "authority"}],
    "sources": [{"url": "https://www.unlisted-host.example.net/notice", "title": "Notice", "outlet": "Example",
                 "outlet_type": "newspaper", "language": "en", "published_on": "2019-03-05",
                 "published_on_basis": "page", "stance": "supports"}],
}


def run_add(root, tmp_path, events):
    import subprocess
    import sys

    path = tmp_path / "events.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(path), str(root), "--accessed-on", "2026-11-28"],
                          capture_output=True, text=True, timeout=120)


def test_add_lists_a_new_host_as_the_outlets_site_and_says_so(package, tmp_path):
    result = run_add(package.root, tmp_path, [NEW_EVENT])
    assert result.returncode == 0, result.stderr
    assert ("warning: events[0].sources[0].url: new host 'unlisted-host.example.net' listed in schema/hosts.csv "
            "as the site of 'Example' (kind outlet_site)") in result.stdout
    rows = {r[0]: r for r in package.rows("hosts")[1:]}
    assert rows["unlisted-host.example.net"][1:3] == ["Example", "outlet_site"]
    assert "review" in rows["unlisted-host.example.net"][3] or "copy_site" in rows["unlisted-host.example.net"][3]
    assert not [f for f in package.validate().findings if f.rule.startswith("HOST") and f.rule != "HOST003"]


def test_add_refuses_a_source_on_a_new_host_without_an_outlet(package, tmp_path):
    before = package.path("hosts").read_bytes()
    source = {k: v for k, v in NEW_EVENT["sources"][0].items() if k != "outlet"}
    result = run_add(package.root, tmp_path, [dict(NEW_EVENT, sources=[source])])
    assert result.returncode == 2
    assert "events[0].sources[0].outlet: is required: host 'unlisted-host.example.net' is not in schema/hosts.csv yet" in result.stderr
    assert package.path("hosts").read_bytes() == before


def test_add_refuses_an_outlet_that_is_not_the_hosts(package, tmp_path):
    source = dict(NEW_EVENT["sources"][0], url="https://www.scmp.com/test/notice", outlet="SCMP")
    result = run_add(package.root, tmp_path, [dict(NEW_EVENT, sources=[source])])
    assert result.returncode == 2
    assert ("events[0].sources[0].outlet: outlet 'SCMP' but schema/hosts.csv maps host 'scmp.com' to "
            "'South China Morning Post'") in result.stderr


def test_add_accepts_a_source_once_its_host_has_a_row(package, tmp_path):
    add_host_row(package, "unlisted-host.example.net", "Example", "outlet_site", "A test host.")
    result = run_add(package.root, tmp_path, [NEW_EVENT])
    assert result.returncode == 0, result.stderr
    assert "unlisted-host.example.net/notice" in package.path("sources").read_text(encoding="utf-8")
    assert not [f for f in package.validate().findings if f.rule.startswith("HOST") and f.rule != "HOST003"]


# ---------------------------------------------------------------- telling the reader
def expected_attribution(source: dict) -> str:
    host, kind = host_of(source["url"]), kind_of(source)
    original, outlet = source["original_outlet"], source["outlet"]
    if kind == "copy_site":
        return f"copy on {host} of {original}'s text" if original else f"copy on {host}; whose text it is is not recorded"
    return f"{outlet}, carrying {original}'s text" if original and original != outlet else outlet


def test_source_hosts_credits_every_copy_as_a_copy():
    table = ic.source_hosts(root=ROOT)
    got = {r.source_id: (r.host, r.host_kind, r.attribution) for r in table.itertuples()}
    assert got == {s["source_id"]: (host_of(s["url"]), kind_of(s), expected_attribution(s)) for s in SOURCES}
    assert sum(1 for s in SOURCES if kind_of(s) == "copy_site") > 100


def test_events_wide_lists_attributions_beside_the_urls():
    wide = ic.events_wide(root=ROOT)
    by_id = {s["source_id"]: s for s in SOURCES}
    copies = 0
    for row in wide.itertuples():
        assert [expected_attribution(by_id[i]) for i in row.source_ids] == list(row.source_attributions)
        copies += sum(1 for i in row.source_ids if kind_of(by_id[i]) == "copy_site")
    assert copies > 0


def test_sqlite_export_holds_host_kind_and_attribution(sqlite_export):
    db = sqlite3.connect(f"file:{sqlite_export}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT source_id, host, host_kind, attribution FROM sources").fetchall()
        assert {r[0]: r[1:] for r in rows} == {s["source_id"]: (host_of(s["url"]), kind_of(s), expected_attribution(s)) for s in SOURCES}
        assert db.execute("SELECT count(*) FROM hosts").fetchone()[0] == len(HOSTS)
        joined = db.execute("SELECT count(*) FROM sources s JOIN hosts h ON h.host = s.host AND h.kind = s.host_kind").fetchone()[0]
        assert joined == len(SOURCES)
    finally:
        db.close()


def test_event_page_labels_a_copy_as_a_copy_of_its_originals_text(sqlite_export):
    import asyncio

    from infocontrols.explorer import make_datasette
    from infocontrols.explorer.metadata import DATABASE

    by_id = {s["source_id"]: s for s in SOURCES}
    links = read(ROOT / "data" / "event_sources.csv")
    event_id, source_id = next((l["event_id"], l["source_id"]) for l in links
                               if kind_of(by_id[l["source_id"]]) == "copy_site" and by_id[l["source_id"]]["original_outlet"])
    copy = by_id[source_id]
    ds = make_datasette(sqlite_export, root=ROOT)
    loop = asyncio.new_event_loop()
    try:
        response = loop.run_until_complete(ds.client.get(f"/{DATABASE}/events/{event_id}"))
    finally:
        loop.close()
    assert response.status_code == 200
    item = next(li for li in response.text.split("<li>") if f"<code>{source_id}</code>" in li)
    label = f"copy on {host_of(copy['url'])} of {copy['original_outlet']}'s text"
    assert f'<span class="copy-of">{escape(label)}</span>' in item
