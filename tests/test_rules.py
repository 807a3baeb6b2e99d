"""One failing fixture per rule: mutate the real package, expect that rule at that line.

Every rule in the registry must have a case here (see test_every_rule_has_a_failing_fixture).
"""
from __future__ import annotations

import pytest

from infocontrols.validation import RULES

from conftest import commit_all


def first_event_with(pkg, column, value):
    return pkg.find("events", column, value)


# Each case: rule id -> function(pkg) returning (file, line) where the finding must be.
def m_req001(pkg):
    return "data/events.csv", pkg.set_cell("events", 3, "title", "")


def m_key001(pkg):
    rows = pkg.rows("event_sources")
    rows.insert(2, list(rows[1]))
    pkg.write_rows("event_sources", rows)
    return "data/event_sources.csv", 3


def m_key002(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 0, "figure_id", "FI-Bad ID")


def m_unq001(pkg):
    url = pkg.cell("sources", 0, "url")
    return "data/sources.csv", pkg.set_cell("sources", 1, "url", url)


def m_pat001(pkg):
    return "data/actors.csv", pkg.set_cell("actors", 0, "wikidata_id", "42")


def m_voc001(pkg):
    return "data/events.csv", pkg.set_cell("events", 5, "event_type", "censor")


def m_rng001(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 2, "value", "-5")


def m_voc002(pkg):
    return "schema/vocabularies.csv", pkg.set_cell("vocabularies", 4, "definition", "")


def m_key003(pkg):
    return "data/event_actors.csv", pkg.set_cell("event_actors", 1, "actor_id", "ac-nobody-at-all")


def m_key004(pkg):
    rows = pkg.rows("retired_ids")
    actor = pkg.cell("actors", 0, "actor_id")
    rows.append([actor, "", "2026-11-01", "merged into another record"])
    pkg.write_rows("retired_ids", rows)
    return "data/actors.csv", 2


def m_key005(pkg):
    commit_all(pkg.root)
    rows = pkg.rows("figures")
    del rows[1]
    pkg.write_rows("figures", rows)
    pkg.baseline = "HEAD"
    return "data/figures.csv", 0


def m_key006(pkg):
    rows = pkg.rows("retired_ids")
    rows.append(["ev-zzzz-an-old-record", "ev-2000-01-01-does-not-exist", "2026-11-01", "renamed"])
    pkg.write_rows("retired_ids", rows)
    return "data/retired_ids.csv", len(rows)


def m_date001(pkg):
    return "data/events.csv", pkg.set_cell("events", 2, "date_start", "2018-02-30")


def m_type001(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 1, "value", "about ten")


def m_date002(pkg):
    i = first_event_with(pkg, "date_precision", "day")
    pkg.set_cell("events", i, "date_start", "2019-05-02")
    return "data/events.csv", pkg.set_cell("events", i, "date_end", "2019-05-01")


def m_date003(pkg):
    i = first_event_with(pkg, "date_precision", "month")
    start = pkg.cell("events", i, "date_start")
    return "data/events.csv", pkg.set_cell("events", i, "date_end", start[:8] + "15")


def m_date004(pkg):
    i = first_event_with(pkg, "date_basis", "occurred")
    pkg.set_cell("events", i, "date_start", "2031-01-01")
    pkg.set_cell("events", i, "date_end", "2031-01-01")
    return "data/events.csv", pkg.set_cell("events", i, "date_precision", "day")


def m_date005(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "accessed_on", "2030-01-01")


def m_date006(pkg):
    # Its only source is dated 2021-02-25; move the event after that, as 'announced'.
    i = pkg.find("events", "event_id", "ev-2021-02-24-beijing-draft-social-credit-regulations")
    pkg.set_cell("events", i, "date_start", "2022-03-01")
    return "data/events.csv", pkg.set_cell("events", i, "date_end", "2022-03-01")


def m_date007(pkg):
    i = next(i for i, r in enumerate(pkg.rows("measures")[1:]) if r[9] and r[8])
    return "data/measures.csv", pkg.set_cell("measures", i, "date_effective", "2000-01-01")


def m_src001(pkg):
    event_id = pkg.cell("events", 0, "event_id")
    rows = pkg.rows("event_sources")
    kept = [rows[0]] + [r for r in rows[1:] if not (r[0] == event_id and r[2] == "supports")]
    pkg.write_rows("event_sources", kept)
    return "data/events.csv", 2


def m_src002(pkg):
    rows = pkg.rows("figures")
    other = next(r[0] for r in pkg.rows("sources")[1:] if r[0] not in {x[1] for x in pkg.rows("event_sources")[1:] if x[0] == rows[1][1]})
    return "data/figures.csv", pkg.set_cell("figures", 0, "source_id", other)


def m_src003(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 3, "url", "https://user:secret@example.org/page")


def m_src004(pkg):
    url = pkg.cell("sources", 0, "url")
    twin = url.replace("https://", "http://", 1) if url.startswith("https://") else url.replace("http://", "https://", 1)
    line = pkg.set_cell("sources", 1, "url", twin)
    return "data/sources.csv", max(line, 2)


def m_src005(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "archive_url", "https://example.org/copy")


def m_src006(pkg):
    rows = pkg.rows("sources")
    values = {"source_id": "so-zzz-unused", "url": "https://example.org/unused", "title": "Unused", "outlet": "Example",
              "outlet_type": "newspaper", "language": "en", "published_on_basis": "none", "accessed_on": "2026-11-01"}
    rows.append([values.get(column, "") for column in rows[0]])
    pkg.write_rows("sources", rows)
    return "data/sources.csv", len(rows)


def m_src007(pkg):
    rows = pkg.rows("actors")
    rows.append(["ac-zzz-nobody", "Nobody", "", "person", "", "", "", "", ""])
    pkg.write_rows("actors", rows)
    return "data/actors.csv", len(rows)


def m_evd001(pkg):
    i = next(i for i, r in enumerate(pkg.rows("events")[1:]) if r[12] == "confirmed")
    event_id = pkg.cell("events", i, "event_id")
    rows = pkg.rows("event_sources")
    if any(r[0] == event_id and r[2] == "contradicts" for r in rows[1:]):
        pytest.fail("fixture assumption: pick an event without contradicting sources")
    return "data/events.csv", pkg.set_cell("events", i, "evidence_status", "disputed")


def _derived(pkg):
    """The evidence status each event's links derive, computed from the package's files."""
    import polars as pl

    from infocontrols.evidence import derive_status

    read = lambda table: pl.read_csv(pkg.path(table), infer_schema=False)
    return dict(derive_status(read("event_sources"), read("sources")).select("event_id", "derived").iter_rows())


def m_evd002(pkg):
    derived = _derived(pkg)
    i = next(i for i, r in enumerate(pkg.rows("events")[1:]) if derived[r[0]] != "disputed")
    other = {"confirmed": "reported", "reported": "confirmed"}[derived[pkg.cell("events", i, "event_id")]]
    return "data/events.csv", pkg.set_cell("events", i, "evidence_status", other)


def m_evd003(pkg):
    rows = pkg.rows("event_sources")
    stance = rows[0].index("stance")
    i = next(i for i, r in enumerate(rows[1:]) if r[stance] == "supports")
    pkg.set_cell("event_sources", i, "note", "")
    return "data/event_sources.csv", pkg.set_cell("event_sources", i, "stance", "contradicts")


def m_evd004(pkg):
    # Give a second source of one event the first one's title, under a different origin.
    links, sources = pkg.rows("event_sources"), pkg.rows("sources")
    head = sources[0]
    by_id = {r[0]: r for r in sources[1:]}
    origin = lambda r: r[head.index("original_outlet")] or r[head.index("outlet")]
    events: dict[str, list[str]] = {}
    for r in links[1:]:
        events.setdefault(r[0], []).append(r[1])
    for ids in events.values():
        pair = [(a, b) for a in ids for b in ids if a < b and origin(by_id[a]) != origin(by_id[b])]
        if pair:
            first, second = pair[0]
            break
    title = "A long enough headline that two outlets share word for word"
    pkg.set_cell("sources", pkg.find("sources", "source_id", first), "title", title)
    return "data/sources.csv", pkg.set_cell("sources", pkg.find("sources", "source_id", second), "title", title + " - Some Outlet")


def m_cit001(pkg):
    return "data/events.csv", pkg.set_cell("events", 3, "notes", "Another outlet gives a later date [so-no-such-source].")


def m_cit002(pkg):
    outlet = next(r[3] for r in pkg.rows("sources")[1:] if len(r[3]) >= 4)
    return "data/events.csv", pkg.set_cell("events", 2, "notes", f"{outlet} gives a different number.")


def m_fig001(pkg):
    rows = pkg.rows("figures")
    copy = list(rows[1])
    copy[0] = "fi-zzz-repeated-claim"
    rows.append(copy)
    pkg.write_rows("figures", rows)
    return "data/figures.csv", len(rows)


def m_fig002(pkg):
    rows = pkg.rows("figures")
    head = rows[0]
    event, quantity, unit = head.index("event_id"), head.index("quantity"), head.index("unit")
    seen = {}
    for i, r in enumerate(rows[1:]):
        key = (r[event], r[quantity])
        if key in seen:
            other_unit = "days" if r[unit] != "days" else "hours"
            return "data/figures.csv", pkg.set_cell("figures", i, "unit", other_unit)
        seen[key] = i
    pytest.fail("fixture assumption: some quantity has two figures")


def m_src008(pkg):
    rows = pkg.rows("sources")
    basis = rows[0].index("published_on_basis")
    i = next(i for i, r in enumerate(rows[1:]) if r[basis] == "page")
    return "data/sources.csv", pkg.set_cell("sources", i, "published_on_basis", "none")


def m_scope001(pkg):
    i = next(i for i, r in enumerate(pkg.rows("events")[1:]) if r[3] != "foreign_response")
    event_id = pkg.cell("events", i, "event_id")
    links = pkg.rows("event_actors")
    pkg.write_rows("event_actors", [links[0]] + [r for r in links[1:] if r[0] != event_id])
    pkg.set_cell("events", i, "admin1", "")
    return "data/events.csv", pkg.set_cell("events", i, "country", "FR")


def m_key007(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "event_id", pkg.cell("events", 0, "event_id") + "-for")


def m_txt001(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "location", "Cafe\u0301")


def m_txt002(pkg):
    return "data/events.csv", pkg.set_cell("events", 1, "summary", "hidden\u200bspace")


def m_txt003(pkg):
    return "data/actors.csv", pkg.set_cell("actors", 2, "name", " Leading space")


def m_txt004(pkg):
    return "data/events.csv", pkg.set_cell("events", 4, "notes", "=HYPERLINK(\"http://x\")")


def m_iso001(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "country", "XX")


def m_iso002(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "admin1", "CN-ZZ")


def m_iso003(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "language", "english")


def m_ord001(pkg):
    rows = pkg.rows("events")
    rows[1], rows[2] = rows[2], rows[1]
    pkg.write_rows("events", rows)
    return "data/events.csv", 2


def _source_on(pkg, kind, *, original=None):
    """0-based index of the first source whose host's row in schema/hosts.csv has ``kind``
    (and, with ``original`` True or False, which does or does not name an original_outlet)."""
    from infocontrols.hosts import covering_host, url_host

    kinds = {r[0]: r[2] for r in pkg.rows("hosts")[1:]}
    rows = pkg.rows("sources")
    url, oo = rows[0].index("url"), rows[0].index("original_outlet")
    return next(
        i for i, r in enumerate(rows[1:])
        if kinds.get(covering_host(url_host(r[url]), kinds)) == kind and (original is None or bool(r[oo]) == original)
    )


def m_host001(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "url", "https://unlisted-host.example.org/report")


def m_host002(pkg):
    i = _source_on(pkg, "outlet_site")
    return "data/sources.csv", pkg.set_cell("sources", i, "outlet", pkg.cell("sources", i, "outlet") + " Online")


def m_host003(pkg):
    i = _source_on(pkg, "copy_site", original=True)
    return "data/sources.csv", pkg.set_cell("sources", i, "original_outlet", "")


def m_host004(pkg):
    rows = pkg.rows("hosts")
    rows.append(["zzz-unused.example.org", "Unused", "outlet_site", ""])
    pkg.write_rows("hosts", rows)
    return "schema/hosts.csv", len(rows)


# Structural rules have their own file of bad-input tests; each is also here for the registry.
def m_desc001(pkg):
    (pkg.root / "datapackage.json").write_text("{not json", encoding="utf-8")
    return "datapackage.json", 1


def m_str(kind):
    def mutate(pkg):
        path = pkg.path("figures")
        data = path.read_bytes()
        if kind == "STR001":
            path.unlink()
            return "data/figures.csv", 0
        if kind == "STR002":
            path.write_bytes(data.replace(b"\n", "\nCaf\xe9 ".encode("latin-1"), 2))
            return "data/figures.csv", 2
        if kind == "STR003":
            path.write_bytes(b"\xef\xbb\xbf" + data)
            return "data/figures.csv", 1
        if kind == "STR004":
            path.write_bytes(data.replace(b"\n", b"\r\n"))
            return "data/figures.csv", 1
        if kind == "STR005":
            path.write_bytes(data + b"\x00")
            return "data/figures.csv", data.count(b"\n") + 1
        if kind == "STR006":
            path.write_bytes(b"")
            return "data/figures.csv", 0
        if kind == "STR007":
            path.write_bytes(data.replace(b"figure_id,event_id", b"event_id,figure_id", 1))
            return "data/figures.csv", 1
        if kind == "STR008":
            lines = data.split(b"\n")
            lines[3] = lines[3] + b',"unbalanced'
            path.write_bytes(b"\n".join(lines))
            return "data/figures.csv", 4
        if kind == "STR009":
            rows = pkg.rows("figures")
            rows[2][-1] = "x" * 30_000
            pkg.write_rows("figures", rows)
            return "data/figures.csv", 3
        if kind == "STR010":
            path.write_bytes(data.split(b"\n")[0] + b"\n")
            return "data/figures.csv", 1
        if kind == "STR011":
            secret = pkg.root.parent / "secret.txt"
            secret.write_text("figure_id,event_id\nTOP SECRET\n", encoding="utf-8")
            path.unlink()
            path.symlink_to(secret)
            return "data/figures.csv", 0
        if kind == "STR012":
            rows = pkg.rows("figures")
            del rows[1]
            pkg.write_rows("figures", rows)  # edited without `infocontrols build`
            return "data/figures.parquet", 0
        raise AssertionError(kind)
    return mutate


def m_chk001(pkg):
    """A covered entry that names no event (each branch is tested in test_checklist_rule_branches)."""
    index = pkg.find("checklist", "coverage", "covered")
    return "data/checklist.csv", pkg.set_cell("checklist", index, "event_id", "")


CASES = {
    "REQ001": m_req001, "KEY001": m_key001, "KEY002": m_key002, "UNQ001": m_unq001, "PAT001": m_pat001,
    "VOC001": m_voc001, "RNG001": m_rng001, "VOC002": m_voc002, "KEY003": m_key003, "KEY004": m_key004,
    "KEY005": m_key005, "KEY006": m_key006, "DATE001": m_date001, "TYPE001": m_type001, "DATE002": m_date002,
    "DATE003": m_date003, "DATE004": m_date004, "DATE005": m_date005, "DATE006": m_date006, "DATE007": m_date007,
    "SRC001": m_src001, "SRC002": m_src002, "SRC003": m_src003, "SRC004": m_src004, "SRC005": m_src005,
    "SRC006": m_src006, "SRC007": m_src007, "EVD001": m_evd001, "EVD002": m_evd002, "EVD003": m_evd003,
    "EVD004": m_evd004, "CIT001": m_cit001, "CIT002": m_cit002, "FIG001": m_fig001, "FIG002": m_fig002,
    "SRC008": m_src008, "KEY007": m_key007, "SCOPE001": m_scope001, "TXT001": m_txt001,
    "TXT002": m_txt002, "TXT003": m_txt003, "TXT004": m_txt004, "ISO001": m_iso001, "ISO002": m_iso002,
    "ISO003": m_iso003, "ORD001": m_ord001, "DESC001": m_desc001,
    "CHK001": m_chk001, "HOST001": m_host001, "HOST002": m_host002, "HOST003": m_host003, "HOST004": m_host004,
    **{f"STR{n:03d}": m_str(f"STR{n:03d}") for n in range(1, 13)},
}


# Which rules are warnings (reported, but validate still says valid), written here rather than
# read from the registry that finding() copies its severity from: moving a rule between error and
# warning is a decision this list must be changed for. Every other rule is an error.
WARNING_RULES = {"DATE007", "SRC004", "SRC006", "SRC007", "EVD004", "CIT002", "HOST003", "HOST004"}


def expected_severity(rule: str) -> str:
    return "warning" if rule in WARNING_RULES else "error"


def test_every_rule_has_a_failing_fixture():
    assert set(RULES) == set(CASES)


def test_registry_severities_are_the_documented_ones():
    assert WARNING_RULES <= set(RULES)
    assert {rule: r.severity for rule, r in RULES.items()} == {rule: expected_severity(rule) for rule in RULES}


def test_real_package_is_valid(real_report):
    assert real_report.ok, [f for f in real_report.errors][:5]
    # The one kind of warning the data has: copies whose page does not say whose text it is
    # (listed in docs/audit/2026-12/hosts.md; tests/test_hosts.py checks exactly which).
    assert {f.rule for f in real_report.warnings} <= {"HOST003"}, [f for f in real_report.warnings if f.rule != "HOST003"][:5]


def assert_reported(package, rule, file, line, column=None, message=None):
    """Validate ``package``; ``rule`` must be reported at (file, line[, column]) with its documented
    severity, and (if given) a message containing ``message``."""
    report = package.validate(baseline=getattr(package, "baseline", None))
    hits = [f for f in report.findings if f.rule == rule]
    assert hits, f"{rule} not reported; got {sorted({f.rule for f in report.findings})}"
    here = [f for f in hits if f.file == file and f.line == line and column in (None, f.column)
            and (message is None or message in f.message)]
    assert here, [(f.file, f.line, f.column, f.message) for f in hits[:5]]
    severity = expected_severity(rule)
    assert all(f.severity == severity for f in hits), {f.severity for f in hits}
    if severity == "error":
        assert not report.ok and here[0] in report.errors
    else:
        assert here[0] in report.warnings and not [f for f in report.errors if f.rule == rule]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_reports_its_line(rule, package):
    file, line = CASES[rule](package)
    assert_reported(package, rule, file, line)


# Rules that check several things get a fixture per branch: (rule, mutation) -> (file, line, column, message part).
def b_key003_parent_actor(pkg):
    return "data/actors.csv", pkg.set_cell("actors", 0, "parent_actor_id", "ac-no-such-parent"), "parent_actor_id", "'ac-no-such-parent' is not a actor_id"


def b_key003_authority(pkg):
    return "data/measures.csv", pkg.set_cell("measures", 0, "authority_actor_id", "ac-no-such-authority"), "authority_actor_id", "'ac-no-such-authority' is not a actor_id"


def b_key003_figure_event(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 0, "event_id", "ev-2000-01-01-no-such-event"), "event_id", "'ev-2000-01-01-no-such-event' is not a event_id"


def b_key003_figure_source(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 1, "source_id", "so-no-such-source"), "source_id", "'so-no-such-source' is not a source_id"


def _dated_source(pkg) -> int:
    rows = pkg.rows("sources")
    published = rows[0].index("published_on")
    return next(i for i, r in enumerate(rows[1:]) if r[published])


def b_date005_published_after_accessed(pkg):
    i = _dated_source(pkg)
    return "data/sources.csv", pkg.set_cell("sources", i, "accessed_on", "2010-01-01"), "published_on", "is after accessed_on 2010-01-01"


def b_date005_published_after_today(pkg):
    i = _dated_source(pkg)
    return "data/sources.csv", pkg.set_cell("sources", i, "published_on", "2099-01-01"), "published_on", "published_on 2099-01-01 is after today"


def b_src003_not_http(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 2, "url", "ftp://example.org/report.pdf"), "url", "url is not an absolute http(s) URL"


def b_src003_whitespace(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 2, "url", "https://example.org/a report"), "url", "url contains whitespace"


def b_src003_no_host(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 2, "url", "https:///report"), "url", "url has no host"


def b_src003_archive_url(pkg):
    line = pkg.set_cell("sources", 2, "archive_url", "web.archive.org/web/2019/https://example.org/")
    return "data/sources.csv", line, "archive_url", "archive_url is not an absolute http(s) URL"


def b_iso002_admin1_of_another_country(pkg):
    i = pkg.find("events", "country", "CN")
    return "data/events.csv", pkg.set_cell("events", i, "admin1", "US-CA"), "admin1", "'US-CA' is not a subdivision of country 'CN'"


def b_iso002_jurisdiction(pkg):
    return "data/measures.csv", pkg.set_cell("measures", 0, "jurisdiction", "CN-ZZ"), "jurisdiction", "'CN-ZZ' is neither an ISO 3166-1 country code"


def b_str004_cr_only(pkg):
    path = pkg.path("figures")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    return "data/figures.csv", 1, "", "line ends with CR;"


BRANCHES = {
    ("KEY003", "parent actor"): b_key003_parent_actor,
    ("KEY003", "measure authority"): b_key003_authority,
    ("KEY003", "figure's event"): b_key003_figure_event,
    ("KEY003", "figure's source"): b_key003_figure_source,
    ("DATE005", "published after accessed"): b_date005_published_after_accessed,
    ("DATE005", "published after today"): b_date005_published_after_today,
    ("SRC003", "not http"): b_src003_not_http,
    ("SRC003", "whitespace"): b_src003_whitespace,
    ("SRC003", "no host"): b_src003_no_host,
    ("SRC003", "archive_url"): b_src003_archive_url,
    ("ISO002", "admin1 of another country"): b_iso002_admin1_of_another_country,
    ("ISO002", "jurisdiction"): b_iso002_jurisdiction,
    ("STR004", "CR only"): b_str004_cr_only,
}


@pytest.mark.parametrize("rule, branch", sorted(BRANCHES), ids=[f"{r}-{b}" for r, b in sorted(BRANCHES)])
def test_rule_branch_reports_its_line(rule, branch, package):
    file, line, column, message = BRANCHES[rule, branch](package)
    assert_reported(package, rule, file, line, column, message)


def test_event_stands_note_keeps_a_contradicted_event_confirmed(package):
    # EVD002 must read event_sources.note after the tables are slimmed: a contradicting link
    # whose note says 'Event stands:' leaves a well-sourced event confirmed.
    rows = package.rows("event_sources")
    link = next(i for i, r in enumerate(rows[1:]) if r[2] == "contradicts" and "Event stands:" in r[3])
    event_id = rows[link + 1][0]
    assert package.cell("events", package.find("events", "event_id", event_id), "evidence_status") == "confirmed"
    line = package.find("events", "event_id", event_id) + 2
    assert not [f for f in package.validate().by_rule("EVD002") if f.line == line]
    package.set_cell("event_sources", link, "note", "Says something else.")
    assert [f for f in package.validate().by_rule("EVD002") if f.line == line]


def test_unknown_code_gets_a_did_you_mean_hint(package):
    line = package.set_cell("events", 5, "event_type", "law_isued")
    hit = next(f for f in package.validate().findings if f.rule == "VOC001")
    assert hit.line == line and "did you mean 'law_issued'" in hit.message


def test_findings_are_lazy_all_of_them_not_the_first(package):
    for i in range(7):
        package.set_cell("events", i, "event_type", "nonsense")
    package.set_cell("actors", 0, "country", "XX")
    report = package.validate()
    assert len(report.by_rule("VOC001")) == 7
    assert len(report.by_rule("ISO001")) == 1


def test_citation_of_a_source_not_linked_to_the_event(package):
    event_id = package.cell("events", 0, "event_id")
    linked = {r[1] for r in package.rows("event_sources")[1:] if r[0] == event_id}
    elsewhere = next(r[0] for r in package.rows("sources")[1:] if r[0] not in linked)
    line = package.set_cell("events", 0, "notes", f"A later report disagrees [{elsewhere}].")
    hits = package.validate().by_rule("CIT001")
    assert [(h.line, h.value) for h in hits] == [(line, elsewhere)]
    assert "not linked to event" in hits[0].message


def test_citation_that_is_not_a_source_id(package):
    line = package.set_cell("events", 1, "summary", "Reported twice [so-Bad ID; so-also bad].")
    hits = package.validate().by_rule("CIT001")
    assert {(h.line, h.value) for h in hits} == {(line, "so-Bad ID"), (line, "so-also bad")}


def test_mistyped_citation_gets_a_did_you_mean(package):
    event_id = package.cell("events", 0, "event_id")
    source_id = next(r[1] for r in package.rows("event_sources")[1:] if r[0] == event_id)
    package.set_cell("events", 0, "notes", f"Reported [{source_id[:-1]}].")
    hit = package.validate().by_rule("CIT001")[0]
    assert f"did you mean {source_id!r}" in hit.message


def test_a_sentence_naming_an_outlet_is_fine_with_a_citation(package):
    event_id = package.cell("events", 2, "event_id")
    source_id, outlet = next(
        (r[1], s[3]) for r in package.rows("event_sources")[1:] if r[0] == event_id
        for s in package.rows("sources")[1:] if s[0] == r[1]
    )
    line = package.set_cell("events", 2, "notes", f"{outlet} gives a different number [{source_id}]. Nothing else differs.")
    assert not [h for h in package.validate().by_rule("CIT002") if h.line == line]


def test_contradicting_source_on_a_confirmed_event_needs_event_stands(package):
    from infocontrols.evidence import STANDS_MARKER

    derived = _derived(package)
    rows = package.rows("event_sources")
    head = rows[0]
    i = next(i for i, r in enumerate(rows[1:]) if derived[r[0]] == "confirmed" and r[head.index("stance")] == "context")
    event_id = rows[i + 1][0]
    package.set_cell("event_sources", i, "stance", "contradicts")
    package.set_cell("event_sources", i, "note", "It gives a later date.")
    event_line = package.find("events", "event_id", event_id) + 2
    hits = [h for h in package.validate().by_rule("EVD002") if h.line == event_line]
    assert [h.value for h in hits] == ["confirmed"] and "'disputed'" in hits[0].message
    package.set_cell("event_sources", i, "note", f"It gives a later date. {STANDS_MARKER} the date is all it disputes.")
    assert not [h for h in package.validate().by_rule("EVD002") if h.line == event_line]


def test_events_abroad_are_in_scope_as_foreign_responses_or_with_a_chinese_actor(package):
    i = next(i for i, r in enumerate(package.rows("events")[1:]) if r[3] != "foreign_response")
    event_id = package.cell("events", i, "event_id")
    actors = {r[0]: r[4] for r in package.rows("actors")[1:]}
    assert any(actors.get(r[1]) == "CN" for r in package.rows("event_actors")[1:] if r[0] == event_id)
    package.set_cell("events", i, "admin1", "")
    line = package.set_cell("events", i, "country", "US")
    assert not [f for f in package.validate().by_rule("SCOPE001") if f.line == line]  # a Chinese actor takes part
    links = package.rows("event_actors")
    package.write_rows("event_actors", [links[0]] + [r for r in links[1:] if r[0] != event_id])
    assert [f.line for f in package.validate().by_rule("SCOPE001")] == [line]
    package.set_cell("events", i, "event_type", "foreign_response")
    assert not package.validate().by_rule("SCOPE001")


@pytest.mark.parametrize("change, column", [
    ({"event_id": ""}, "event_id"),                                        # covered, but no event named
    ({"coverage": "out_of_scope", "reason": "not a control"}, "coverage"), # an event named, yet not covered
    ({"coverage": "insufficient_sources", "event_id": "", "reason": ""}, "reason"),  # left out without a reason
])
def test_checklist_rule_branches(package, change, column):
    index = package.find("checklist", "coverage", "covered")
    for field, value in change.items():
        line = package.set_cell("checklist", index, field, value)
    hits = package.validate().by_rule("CHK001")
    assert [(h.file, h.line, h.column) for h in hits] == [("data/checklist.csv", line, column)]
