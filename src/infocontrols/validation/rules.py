"""Phase 2b: the hand-written rules that a Table Schema cannot say.

Each rule is a function over the parsed tables that returns findings; they run on
polars frames, so cost grows linearly with the rows. A rule skips a table that phase 1
could not parse (that table already has its structural findings).
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable

import polars as pl

from ..contract import Contract
from . import findings as F
from .findings import Finding, finding
from .structure import ParsedTable
from .constraints import did_you_mean_id

RuleFn = Callable[["Context"], Iterable[Finding]]
HAND_RULES: list[RuleFn] = []
TABLE_RULES: list = []  # rules over one table, run while its full text is still in memory

ARCHIVE_HOSTS = (
    "web.archive.org", "archive.org", "archive.today", "archive.ph", "archive.is",
    "archive.li", "archive.vn", "archive.md", "archive.fo", "perma.cc",
    "webcitation.org", "www.webcitation.org", "ghostarchive.org", "wayback.archive-it.org",
)
OFFICIAL_OUTLETS = ("government",)
FORBIDDEN_CHARS = "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
SCHEDULED_BASES = ("scheduled", "effective")


@dataclass
class Context:
    contract: Contract
    tables: dict[str, ParsedTable]
    today: dt.date
    baseline: str | None = None
    # Small frames a table's own rule leaves for a cross-table rule, because the free
    # text they come from is dropped once the table's own checks are done.
    carry: dict = field(default_factory=dict)

    def frame(self, name: str) -> pl.DataFrame | None:
        parsed = self.tables.get(name)
        return parsed.frame if parsed is not None else None

    def file(self, name: str) -> str:
        return self.contract.table(name).path


def hand_rule(fn: RuleFn) -> RuleFn:
    HAND_RULES.append(fn)
    return fn


def table_rule(fn):
    """A rule over one table, run right after that table is read (fn(ctx, table))."""
    TABLE_RULES.append(fn)
    return fn


def one_table_rule(name: str):
    """A rule that reads only table ``name``: it runs while that table is fully in memory."""
    def register(fn: RuleFn):
        def run(ctx: Context, table) -> Iterable[Finding]:
            return fn(ctx) if table.name == name else ()
        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        TABLE_RULES.append(run)
        return fn
    return register


def rows(frame: pl.DataFrame, mask: pl.Expr, *columns: str) -> list[dict]:
    """Rows of ``frame`` where ``mask`` holds, with their 0-based index as ``_row``."""
    return frame.with_row_index("_row").filter(mask).select(["_row", *columns]).to_dicts()


def line(row: dict) -> int:
    return row["_row"] + 2


# ---------------------------------------------------------------- vocabularies
@hand_rule
def vocabulary_entries(ctx: Context) -> Iterable[Finding]:
    """VOC002: labels and definitions present; coded fields name an existing vocabulary."""
    vocab = ctx.frame("vocabularies")
    if vocab is None:
        return
    file = ctx.file("vocabularies")
    for column in ("label", "definition"):
        for r in rows(vocab, pl.col(column).is_null(), "vocabulary", "code"):
            yield finding(F.VOC002, file, line(r), column, r["code"], f"vocabulary {r['vocabulary']} code {r['code']!r} has no {column}")
    known = set(vocab["vocabulary"].drop_nulls().unique().to_list())
    for table in ctx.contract.tables.values():
        for f in table.fields:
            if f.vocabulary and f.vocabulary not in known:
                yield finding(F.VOC002, table.schema_path or table.path, 0, f.name, f.vocabulary, f"field {table.name}.{f.name} names vocabulary {f.vocabulary!r}, which has no entries in {file}")


# ---------------------------------------------------------------- keys
@hand_rule
def foreign_keys(ctx: Context) -> Iterable[Finding]:
    """KEY003 / SRC002: every foreign key resolves."""
    for table in ctx.contract.tables.values():
        frame = ctx.frame(table.name)
        if frame is None:
            continue
        for fk in table.foreign_keys:
            ref = ctx.frame(fk.reference_table)
            if ref is None:
                continue
            cols = list(fk.fields)
            shown = [*cols, *(["event_id"] if "event_id" in frame.columns and "event_id" not in cols else [])]
            # Only the key (and the event it belongs to) is copied, not every column of the table.
            present = frame.select(shown).with_row_index("_row").filter(pl.all_horizontal([pl.col(c).is_not_null() for c in cols]))
            if len(cols) == 1:
                missing = present.filter(~pl.col(cols[0]).is_in(ref[fk.reference_fields[0]].implode()))
            else:
                keys = ref.select([pl.col(r).alias(c) for c, r in zip(cols, fk.reference_fields)]).unique()
                missing = present.join(keys, on=cols, how="anti").sort("_row")
            rule = F.SRC002 if fk.reference_table == "event_sources" else F.KEY003
            ref_file = ctx.file(fk.reference_table)
            broken = ctx.carry.setdefault("events_with_broken_links", set())
            rows_missing = missing.select(["_row", *shown]).to_dicts()
            known = sorted(ref[fk.reference_fields[0]].drop_nulls().unique().to_list()) if rows_missing and len(cols) == 1 else []
            for r in rows_missing:
                value = ",".join(str(r[c]) for c in cols)
                if rule is F.SRC002:
                    if r[cols[0]] in broken:
                        continue  # one mistake, one message: the event's own link is already reported
                    message = f"figure cites source {r[cols[1]]!r}, which is not linked to event {r[cols[0]]!r} in {ref_file}"
                else:
                    hint = did_you_mean_id(str(r[cols[0]]), known) if known else ""
                    message = f"{value!r} is not a {'/'.join(fk.reference_fields)} in {ref_file}{hint}"
                    if table.name == "event_sources" and cols == ["source_id"]:
                        broken.add(r["event_id"])
                        message += "; the event's evidence checks wait until this link is fixed"
                yield finding(rule, table.path, line(r), ",".join(cols), value, message)


def _id_tables(ctx: Context):
    for table in ctx.contract.tables.values():
        if table.id_prefix and ctx.frame(table.name) is not None:
            yield table, ctx.frame(table.name)


@hand_rule
def retired_ids(ctx: Context) -> Iterable[Finding]:
    """KEY004 and KEY006: retired IDs stay retired; replacements exist."""
    retired = ctx.frame("retired_ids")
    if retired is None or retired.height == 0:
        return
    retired_set = set(retired["retired_id"].drop_nulls().to_list())
    all_ids: set[str] = set()
    for table, frame in _id_tables(ctx):
        key = table.primary_key[0]
        all_ids.update(frame[key].drop_nulls().to_list())
        for r in rows(frame, pl.col(key).is_in(list(retired_set)), key):
            yield finding(F.KEY004, table.path, line(r), key, r[key], f"{r[key]!r} was retired (see data/retired_ids.csv) and may not be used again; choose a new ID")
    for r in rows(retired, pl.col("replaced_by").is_not_null(), "replaced_by"):
        if r["replaced_by"] not in all_ids:
            yield finding(F.KEY006, ctx.file("retired_ids"), line(r), "replaced_by", r["replaced_by"], f"replacement {r['replaced_by']!r} does not exist in the data")


@lru_cache(maxsize=32)
def _commit_of(root: str, ref: str) -> str:
    if not ref or ref.startswith("-") or any(c in ref for c in "\x00\n\r"):
        raise BaselineError(f"--baseline {ref!r}: not a git revision (a revision never starts with '-')")
    try:
        found = subprocess.run(
            ["git", "-C", root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
            capture_output=True, check=False, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BaselineError(f"cannot run git for --baseline {ref}: {exc}") from None
    commit = found.stdout.decode("ascii", "replace").strip()
    if found.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", commit):
        message = found.stderr.decode("utf-8", "replace").strip()
        raise BaselineError(f"--baseline {ref}: not a commit in the git repository at {root}" + (f" ({message})" if message else ""))
    return commit


def resolve_baseline(root, ref: str) -> str:
    """The commit ``ref`` names in the repository holding ``root``; never read as a git option.

    Example:
        >>> resolve_baseline(".", "HEAD")                                 # doctest: +SKIP
        '8e5eedb...'
    """
    return _commit_of(str(root), ref)


def _ids_at(ctx: Context, ref: str, path: str, key: str) -> set[str]:
    commit = resolve_baseline(ctx.contract.root, ref)  # a hex commit id cannot pass for an option
    try:
        shown = subprocess.run(
            ["git", "-C", str(ctx.contract.root), "show", "--end-of-options", f"{commit}:./{path}"],
            capture_output=True, check=False, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BaselineError(f"cannot run git for --baseline {ref}: {exc}") from None
    if shown.returncode != 0:
        message = shown.stderr.decode("utf-8", "replace").strip()
        if "exists on disk, but not in" in message or "does not exist in" in message:
            return set()
        raise BaselineError(f"--baseline {ref}: {message or 'git show failed'}")
    try:
        frame = pl.read_csv(shown.stdout, infer_schema=False, columns=[key])
    except Exception as exc:  # noqa: BLE001 - any unreadable baseline file
        raise BaselineError(f"--baseline {ref}: cannot read {path} at that revision: {exc}") from None
    return set(frame[key].drop_nulls().to_list())


class BaselineError(Exception):
    """The baseline revision cannot be read (not a git checkout, unknown ref)."""


@hand_rule
def baseline_ids(ctx: Context) -> Iterable[Finding]:
    """KEY005: IDs gone since the baseline revision must be listed as retired."""
    if not ctx.baseline:
        return
    retired = ctx.frame("retired_ids")
    retired_set = set(retired["retired_id"].drop_nulls().to_list()) if retired is not None else set()
    for table, frame in _id_tables(ctx):
        key = table.primary_key[0]
        gone = _ids_at(ctx, ctx.baseline, table.path, key) - set(frame[key].drop_nulls().to_list()) - retired_set
        for value in sorted(gone):
            yield finding(F.KEY005, table.path, 0, key, value, f"{value!r} existed at {ctx.baseline} and is gone: IDs are permanent; restore it or add it to data/retired_ids.csv with its replacement and reason")


# ---------------------------------------------------------------- dates
_PRECISION_FITS = {
    "day": pl.col("date_end") == pl.col("date_start"),
    "week": (pl.col("date_end") - pl.col("date_start")).dt.total_days() <= 6,
    "month": (pl.col("date_start").dt.day() == 1)
    & (pl.col("date_end") == pl.col("date_start").dt.month_end()),
    "year": (pl.col("date_start").dt.month() == 1) & (pl.col("date_start").dt.day() == 1)
    & (pl.col("date_end").dt.month() == 12) & (pl.col("date_end").dt.day() == 31)
    & (pl.col("date_end").dt.year() == pl.col("date_start").dt.year()),
}
_PRECISION_TEXT = {
    "day": "date_end must equal date_start",
    "week": "the range may span at most 7 days",
    "month": "the range must run from the first to the last day of one month",
    "year": "the range must run from 1 January to 31 December of one year",
}


@one_table_rule("events")
def event_dates(ctx: Context) -> Iterable[Finding]:
    """DATE002, DATE003, DATE004 for events."""
    events = ctx.frame("events")
    if events is None:
        return
    file = ctx.file("events")
    both = pl.col("date_start").is_not_null() & pl.col("date_end").is_not_null()
    for r in rows(events, both & (pl.col("date_start") > pl.col("date_end")), "date_start", "date_end"):
        yield finding(F.DATE002, file, line(r), "date_end", r["date_end"], f"date_end {r['date_end']} is before date_start {r['date_start']}")
    ordered = both & (pl.col("date_start") <= pl.col("date_end"))
    for precision, fits in _PRECISION_FITS.items():
        mask = ordered & (pl.col("date_precision") == precision) & ~fits
        for r in rows(events, mask, "date_start", "date_end"):
            yield finding(F.DATE003, file, line(r), "date_end", r["date_end"], f"{r['date_start']}..{r['date_end']} does not fit precision {precision!r}: {_PRECISION_TEXT[precision]}")
    future = pl.col("date_start") > ctx.today
    mask = future & ~pl.col("date_basis").is_in(list(SCHEDULED_BASES)).fill_null(False)
    for r in rows(events, mask, "date_start", "date_basis"):
        yield finding(F.DATE004, file, line(r), "date_start", r["date_start"], f"date_start {r['date_start']} is after today ({ctx.today}); only a 'scheduled' or 'effective' date_basis may lie in the future")


@one_table_rule("measures")
def measure_dates(ctx: Context) -> Iterable[Finding]:
    """DATE002, DATE004 and DATE007 for measures."""
    measures = ctx.frame("measures")
    if measures is None:
        return
    file = ctx.file("measures")
    for r in rows(measures, pl.col("date_announced") > ctx.today, "date_announced"):
        yield finding(F.DATE004, file, line(r), "date_announced", r["date_announced"], f"date_announced {r['date_announced']} is after today ({ctx.today})")
    for r in rows(measures, pl.col("date_ended") < pl.col("date_effective"), "date_ended", "date_effective"):
        yield finding(F.DATE002, file, line(r), "date_ended", r["date_ended"], f"date_ended {r['date_ended']} is before date_effective {r['date_effective']}")
    for r in rows(measures, pl.col("date_effective") < pl.col("date_announced"), "date_effective", "date_announced"):
        yield finding(F.DATE007, file, line(r), "date_effective", r["date_effective"], f"takes effect {r['date_effective']}, before it was announced {r['date_announced']}; check both dates")


@one_table_rule("sources")
def source_dates(ctx: Context) -> Iterable[Finding]:
    """DATE005: published_on <= accessed_on <= today."""
    sources = ctx.frame("sources")
    if sources is None:
        return
    file = ctx.file("sources")
    for r in rows(sources, pl.col("published_on") > pl.col("accessed_on"), "published_on", "accessed_on"):
        yield finding(F.DATE005, file, line(r), "published_on", r["published_on"], f"published_on {r['published_on']} is after accessed_on {r['accessed_on']}")
    for column in ("published_on", "accessed_on"):
        for r in rows(sources, pl.col(column) > ctx.today, column):
            yield finding(F.DATE005, file, line(r), column, r[column], f"{column} {r[column]} is after today ({ctx.today})")


@hand_rule
def sources_before_event(ctx: Context) -> Iterable[Finding]:
    """DATE006: supporting sources all published before date_start need a scheduled basis."""
    events, links, sources = ctx.frame("events"), ctx.frame("event_sources"), ctx.frame("sources")
    if events is None or links is None or sources is None:
        return
    supporting = links.filter(pl.col("stance") == "supports").join(
        sources.select("source_id", "published_on"), on="source_id", how="inner"
    )
    latest = supporting.group_by("event_id").agg(
        pl.col("published_on").max().alias("latest"),
        pl.col("published_on").null_count().alias("undated"),
    )
    checked = events.with_row_index("_row").join(latest, on="event_id", how="inner")
    mask = (
        (pl.col("undated") == 0)
        & (pl.col("latest") < pl.col("date_start"))
        & ~pl.col("date_basis").is_in(list(SCHEDULED_BASES)).fill_null(False)
    )
    for r in checked.filter(mask).sort("_row").select("_row", "event_id", "date_start", "latest").to_dicts():
        yield finding(F.DATE006, ctx.file("events"), line(r), "date_basis", r["event_id"], f"every supporting source was published by {r['latest']}, before date_start {r['date_start']}: a date reported in advance needs date_basis 'scheduled' or 'effective'")


# ---------------------------------------------------------------- sources and evidence
@hand_rule
def events_have_sources(ctx: Context) -> Iterable[Finding]:
    """SRC001: every event has a supporting source."""
    events, links = ctx.frame("events"), ctx.frame("event_sources")
    if events is None or links is None:
        return
    supported = links.filter(pl.col("stance") == "supports").select("event_id").unique()
    missing = events.with_row_index("_row").join(supported, on="event_id", how="anti").sort("_row")
    broken = ctx.carry.get("events_with_broken_links", set())
    if broken:
        missing = missing.filter(~pl.col("event_id").is_in(list(broken)))
    for r in missing.select("_row", "event_id").to_dicts():
        yield finding(F.SRC001, ctx.file("events"), line(r), "event_id", r["event_id"], f"event {r['event_id']!r} has no source with stance 'supports' in {ctx.file('event_sources')}")


def _url_problem_exprs(column: str) -> list[tuple[pl.Expr, str]]:
    c = pl.col(column)
    authority = c.str.extract(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)", 1)
    return [
        (c.str.contains(r"\s"), "contains whitespace"),
        (~c.str.contains(r"^(?i)https?://"), "is not an absolute http(s) URL"),
        (authority.str.contains("@").fill_null(False), "embeds credentials (user@host)"),
        (c.str.contains(r"^(?i)https?://").fill_null(False) & (authority.str.replace(r":\d*$", "").str.len_chars() == 0).fill_null(True), "has no host"),
    ]


@one_table_rule("sources")
def source_urls(ctx: Context) -> Iterable[Finding]:
    """SRC003, SRC004, SRC005: well-formed, distinct URLs; archive links to archives."""
    sources = ctx.frame("sources")
    if sources is None:
        return
    file = ctx.file("sources")
    for column in ("url", "archive_url"):
        # One pass: a well-formed URL is scheme, host without '@', then no whitespace.
        odd = sources.with_row_index("_row").filter(
            pl.col(column).is_not_null() & ~pl.col(column).str.contains(r"^(?i)https?://[^\s/?#@:]+(:\d+)?([/?#]\S*)?$")
        )
        for problem, text in _url_problem_exprs(column):
            for r in odd.filter(problem.fill_null(False)).select("_row", column).to_dicts():
                yield finding(F.SRC003, file, line(r), column, r[column], f"{column} {text}")
    host = pl.col("archive_url").str.extract(r"^(?i)https?://([^/?#:]+)", 1).str.to_lowercase()
    for r in rows(sources, pl.col("archive_url").is_not_null() & ~host.is_in(list(ARCHIVE_HOSTS)).fill_null(False), "archive_url"):
        yield finding(F.SRC005, file, line(r), "archive_url", r["archive_url"], "archive_url is not on a known web archive (" + ", ".join(ARCHIVE_HOSTS[:6]) + ", ...)")
    normal = pl.col("url").str.to_lowercase().str.replace_all(r"^https?://(www\.)?|#.*$|/+$", "")
    # Hash first (cheap, 8 bytes a row); compare the text only where hashes collide.
    hashed = sources.select(pl.col("url"), normal.hash().alias("_h")).with_row_index("_row").filter(pl.col("url").is_not_null())
    candidates = hashed.filter(pl.col("_h").is_duplicated())
    if candidates.height == 0:
        return
    keyed = candidates.with_columns(normal.alias("_norm"))
    dup = keyed.filter(pl.col("_norm").is_duplicated() & ~pl.col("url").is_duplicated())
    first = keyed.group_by("_norm").agg(pl.col("_row").min().alias("_first"))
    for r in dup.join(first, on="_norm").filter(pl.col("_row") != pl.col("_first")).sort("_row").to_dicts():
        yield finding(F.SRC004, file, line(r), "url", r["url"], f"same page as the URL on line {r['_first'] + 2} (differs only in scheme, 'www.', trailing slash or fragment)")


@hand_rule
def unreferenced(ctx: Context) -> Iterable[Finding]:
    """SRC006, SRC007: sources and actors nothing refers to."""
    sources = ctx.frame("sources")
    cited = [f["source_id"] for f in (ctx.frame("event_sources"), ctx.frame("figures")) if f is not None]
    if sources is not None and cited:
        used = pl.concat([c.unique() for c in cited]).unique()
        for r in rows(sources, ~pl.col("source_id").is_in(used.implode()), "source_id"):
            yield finding(F.SRC006, ctx.file("sources"), line(r), "source_id", r["source_id"], f"source {r['source_id']!r} is not cited by any event or figure")
    actors = ctx.frame("actors")
    refs = []
    for name, column in (("event_actors", "actor_id"), ("actors", "parent_actor_id"), ("measures", "authority_actor_id")):
        frame = ctx.frame(name)
        if frame is not None:
            refs.append(frame[column].drop_nulls().alias("actor_id"))
    if actors is not None and refs:
        used = pl.concat(refs).unique()
        for r in rows(actors, ~pl.col("actor_id").is_in(used.implode()), "actor_id"):
            yield finding(F.SRC007, ctx.file("actors"), line(r), "actor_id", r["actor_id"], f"actor {r['actor_id']!r} takes part in no event and nothing refers to it")


@hand_rule
def evidence(ctx: Context) -> Iterable[Finding]:
    """EVD001, EVD002, EVD003: evidence_status is derived from the links; contradictions explained."""
    from ..evidence import derive_status

    events, links, sources = ctx.frame("events"), ctx.frame("event_sources"), ctx.frame("sources")
    if links is not None and "note" in links.columns:
        unexplained = links.with_row_index("_row").filter((pl.col("stance") == "contradicts") & pl.col("note").is_null())
        for r in unexplained.select("_row", "event_id", "source_id").to_dicts():
            yield finding(F.EVD003, ctx.file("event_sources"), line(r), "note", f"{r['event_id']},{r['source_id']}", f"source {r['source_id']!r} contradicts event {r['event_id']!r}: say in the note what it says differently")
    if events is None or links is None or sources is None:
        return
    file = ctx.file("events")
    checked = _source_hosts(ctx)
    unknown = [] if checked is None else checked.filter((pl.col("_kind") == "copy_site") & pl.col("original_outlet").is_null())["source_id"].to_list()
    derived = derive_status(links, sources, unknown)
    broken = ctx.carry.get("events_with_broken_links", set())
    checked = events.select("event_id", "evidence_status").with_row_index("_row").join(derived, on="event_id", how="left")
    if broken:  # a dangling link is reported once (KEY003); the status cannot be judged until it is fixed
        checked = checked.filter(~pl.col("event_id").is_in(list(broken)))
    for r in checked.filter(pl.col("derived").is_not_null() & (pl.col("evidence_status") != pl.col("derived"))).sort("_row").to_dicts():
        status, want = r["evidence_status"], r["derived"]
        if status == "disputed" and r["contradicting"] == 0:
            yield finding(F.EVD001, file, line(r), "evidence_status", status, f"event {r['event_id']!r} is 'disputed' but links no source with stance 'contradicts'; link the disputing source, or set evidence_status to {want!r}")
            continue
        why = {
            "confirmed": f"its supporting sources come from {r['origins']} origin(s)" + (" including a government source" if r["official"] else ""),
            "reported": f"its supporting sources come from {r['origins']} origin(s) and none is a government source (copies of one story count once; a copy that does not say whose text it is counts as none)",
            "disputed": f"{r['contradicting']} linked source(s) contradict it" + (f" and {r['unexplained']} of those notes do not say 'Event stands:'" if status == "confirmed" and r["unexplained"] else ""),
        }[want]
        fix = {
            "confirmed": "set evidence_status to 'confirmed' (the status is derived from the sources, not chosen)",
            "reported": "set evidence_status to 'reported', or link a supporting source from a second, independent origin or an official one",
            "disputed": "set evidence_status to 'disputed', or, if the event stands despite it, say why in that link's note ('Event stands: ...')",
        }[want]
        yield finding(F.EVD002, file, line(r), "evidence_status", status, f"event {r['event_id']!r} is {status!r} but its sources make it {want!r}: {why}; {fix}")


def _title_key(column: str) -> pl.Expr:
    """A title reduced for comparison: lowercase letters and digits only, without a trailing
    ' - Outlet' or ' | Outlet' suffix, so copies of one story compare equal."""
    c = pl.col(column).str.to_lowercase().str.replace(r"\s+[-|–—]\s+[^-|–—]{1,40}$", "")
    return c.str.replace_all(r"[^\p{L}\p{N}]+", "")


@one_table_rule("sources")
def source_title_keys(ctx: Context) -> Iterable[Finding]:
    """Leave each source's reduced title for EVD004, which runs after the links are read."""
    sources = ctx.frame("sources")
    if sources is not None and "title" in sources.columns:
        keys = sources.select("source_id", _title_key("title").alias("_title_key"))
        ctx.carry["title_keys"] = keys.filter(pl.col("_title_key").str.len_chars() >= 16)
    return ()


@hand_rule
def undeclared_copies(ctx: Context) -> Iterable[Finding]:
    """EVD004: near-identical titles from different origins on one event."""
    from ..evidence import origin

    links, sources, keys = ctx.frame("event_sources"), ctx.frame("sources"), ctx.carry.get("title_keys")
    if links is None or sources is None or keys is None or keys.height == 0:
        return
    linked = (
        links.select("event_id", "source_id")
        .join(keys, on="source_id", how="inner")
        .join(sources.select("source_id", origin()).with_row_index("_row"), on="source_id", how="inner")
    )
    clashes = linked.filter(pl.col("origin").n_unique().over(["event_id", "_title_key"]) > 1)
    if clashes.height == 0:
        return
    file = ctx.file("sources")
    seen: set[tuple[str, str]] = set()
    for (event_id, _), group in clashes.sort("_row").group_by(["event_id", "_title_key"], maintain_order=True):
        group = group.to_dicts()
        first = group[0]
        for r in group[1:]:
            if r["origin"] == first["origin"] or (r["source_id"], first["source_id"]) in seen:
                continue
            seen.add((r["source_id"], first["source_id"]))
            yield finding(F.EVD004, file, line(r), "original_outlet", r["source_id"], f"source {r['source_id']!r} ({r['origin']}) has nearly the same title as {first['source_id']!r} ({first['origin']}) on event {event_id!r}: if one copies the other, set its original_outlet to the outlet it copies")


# ---------------------------------------------------------------- hosts, outlets and copies
@one_table_rule("sources")
def source_url_hosts(ctx: Context) -> Iterable[Finding]:
    """Leave each source's URL host for HOST001-HOST004, which run once schema/hosts.csv is read."""
    from ..hosts import URL_HOST_PATTERN

    sources = ctx.frame("sources")
    if sources is not None and "url" in sources.columns:
        ctx.carry["url_hosts"] = sources.select(pl.col("url").str.extract(URL_HOST_PATTERN, 1).alias("_raw_host")).with_row_index("_row")
    return ()


def _outlet_hint(outlet: str, expected: str) -> str:
    close = difflib.SequenceMatcher(None, outlet.casefold(), expected.casefold()).ratio() >= 0.5
    close = close or outlet.casefold() in expected.casefold() or expected.casefold() in outlet.casefold()
    return f"did you mean {expected!r}?" if close else f"set outlet to {expected!r}"


def _listed_hosts(ctx: Context) -> dict[str, tuple[int, str, str]] | None:
    """The hosts table's rows: host -> (line, outlet, kind); None without a hosts table."""
    table = ctx.frame("hosts")
    if table is None or not {"host", "outlet", "kind"} <= set(table.columns):
        return None
    listed: dict[str, tuple[int, str, str]] = {}
    for r in rows(table, pl.col("host").is_not_null(), "host", "outlet", "kind"):
        listed.setdefault(r["host"], (line(r), r["outlet"], None if r["kind"] is None else str(r["kind"])))
    return listed


def _source_hosts(ctx: Context) -> pl.DataFrame | None:
    """Per source row: its host, the hosts-table row covering it and that row's outlet and kind
    (computed once, for HOST001-HOST004 and for the evidence rules); None when either table is missing."""
    if "source_hosts" in ctx.carry:
        return ctx.carry["source_hosts"]
    from ..hosts import covering_host, normal_host

    listed = _listed_hosts(ctx)
    sources, raw = ctx.frame("sources"), ctx.carry.get("url_hosts")
    checked = None
    if listed is not None and sources is not None and raw is not None:
        cover = {}
        for value in raw["_raw_host"].drop_nulls().unique().to_list():
            host = normal_host(value)
            cover[value] = (host or None, covering_host(host, listed))
        mapping = pl.DataFrame(
            {"_raw_host": list(cover), "_host": [v[0] for v in cover.values()], "_listed": [v[1] for v in cover.values()]},
            schema={"_raw_host": pl.String, "_host": pl.String, "_listed": pl.String},
        )
        info = pl.DataFrame(
            {"_listed": list(listed), "_outlet": [v[1] for v in listed.values()], "_kind": [v[2] for v in listed.values()]},
            schema={"_listed": pl.String, "_outlet": pl.String, "_kind": pl.String},
        )
        checked = (
            raw.join(mapping, on="_raw_host", how="left")
            .join(sources.select("source_id", "outlet", "original_outlet").with_row_index("_row"), on="_row", how="inner")
            .join(info, on="_listed", how="left")
            .sort("_row")
        )
    ctx.carry["source_hosts"] = checked
    return checked


@hand_rule
def hosts(ctx: Context) -> Iterable[Finding]:
    """HOST001-HOST004: source hosts are listed, outlets are the host's, copies name their original, rows are used."""
    from ..hosts import CHECKED_KINDS, COPY_SITE, normal_host

    listed = _listed_hosts(ctx)
    if listed is None:
        return
    file = ctx.file("hosts")
    for host, (host_line, _, _) in listed.items():
        if normal_host(host) != host:
            yield finding(F.HOST001, file, host_line, "host", host, f"host {host!r} is not written as hosts are: use {normal_host(host)!r} (lowercase, without a leading 'www.' or a trailing dot)")
    checked = _source_hosts(ctx)
    if checked is None:
        return
    src_file = ctx.file("sources")
    for r in checked.filter(pl.col("_host").is_not_null() & pl.col("_listed").is_null()).to_dicts():
        yield finding(F.HOST001, src_file, line(r), "url", r["_host"], f"host {r['_host']!r} is not in {file}: add a row for it (host, outlet, kind, note), or for a parent domain that covers it (CONTRIBUTING.md, 'Add a host')")
    wrong = pl.col("_kind").is_in(list(CHECKED_KINDS)) & pl.col("outlet").is_not_null() & (pl.col("outlet") != pl.col("_outlet"))
    for r in checked.filter(wrong.fill_null(False)).to_dicts():
        yield finding(F.HOST002, src_file, line(r), "outlet", r["outlet"], f"outlet {r['outlet']!r} but {file} maps host {r['_listed']!r} to {r['_outlet']!r}: {_outlet_hint(r['outlet'], r['_outlet'])} (whose text the page carries goes in original_outlet; if the host's outlet is wrong, change its row in {file})")
    for r in checked.filter((pl.col("_kind") == COPY_SITE) & pl.col("original_outlet").is_null()).to_dicts():
        yield finding(F.HOST003, src_file, line(r), "original_outlet", r["source_id"], f"source {r['source_id']!r} is on {r['_host']!r}, a copy site in {file}, but does not say whose text it is: name that outlet in original_outlet (with its outlet_type), so that readers learn whose copy it is and it counts as that outlet's evidence")
    used = set(checked["_listed"].drop_nulls().unique().to_list())
    for host, (host_line, _, _) in listed.items():
        if host not in used:
            yield finding(F.HOST004, file, host_line, "host", host, f"host {host!r} covers no source's URL: remove its row (or add the source that needs it)")


# ---------------------------------------------------------------- citations in prose
CITATION = re.compile(r"\[(so-[^\]]*)\]")
SOURCE_ID = re.compile(r"^so-[a-z0-9]+(-[a-z0-9]+)*$")
# Free text that may cite sources, and the column naming the event it is about (if any).
CITING_TEXT = {
    "events": (("summary", "notes"), "event_id"),
    "event_sources": (("note",), "event_id"),
    "figures": (("notes",), "event_id"),
    "sources": (("notes",), None),
    "measures": (("description",), None),
    "actors": (("description",), None),
}
# Prose whose sentences must cite the outlets they name (CIT002).
ATTRIBUTING_TEXT = {"events": ("notes",), "event_sources": ("note",)}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“(\[])")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s]


@table_rule
def collect_citations(ctx: Context, table) -> Iterable[Finding]:
    """Leave every bracketed citation, and every sentence that cites nothing, for CIT001/CIT002."""
    spec = CITING_TEXT.get(table.name)
    parsed = ctx.tables.get(table.name)
    if spec is None or parsed is None or parsed.raw is None:
        return ()
    columns, scope = spec
    raw = parsed.raw
    citations, quiet = [], []
    for column in (c for c in columns if c in raw.columns):
        cited = raw.select(
            pl.col(column).alias("_text"), *( [pl.col(scope).alias("_event")] if scope else [pl.lit(None, pl.String).alias("_event")])
        ).with_row_index("_row").filter(pl.col("_text").str.contains(r"\[so-", literal=False).fill_null(False))
        for r in cited.to_dicts():
            for group in CITATION.findall(r["_text"]):
                for token in re.split(r"\s*[;,]\s*", group.strip()):
                    citations.append((table.path, r["_row"] + 2, column, r["_event"], token))
        if column in ATTRIBUTING_TEXT.get(table.name, ()):
            texts = raw.select(pl.col(column).alias("_text")).with_row_index("_row").filter(pl.col("_text").is_not_null())
            for index, text in texts.iter_rows():
                for sentence in _sentences(text):
                    if "[so-" not in sentence:
                        quiet.append((table.path, index + 2, column, sentence))
    ctx.carry.setdefault("citations", []).extend(citations)
    ctx.carry.setdefault("uncited_sentences", []).extend(quiet)
    return ()


@hand_rule
def citations(ctx: Context) -> Iterable[Finding]:
    """CIT001: cited source IDs exist and are linked to the event the text is about."""
    cited = ctx.carry.get("citations") or []
    sources, links = ctx.frame("sources"), ctx.frame("event_sources")
    if not cited or sources is None:
        return
    known = set(sources["source_id"].drop_nulls().to_list())
    linked = set(zip(links["event_id"].to_list(), links["source_id"].to_list())) if links is not None else None
    for file, line_no, column, event_id, token in cited:
        if not SOURCE_ID.match(token):
            yield finding(F.CIT001, file, line_no, column, token, f"[{token}] is not a source ID; cite sources as [so-...] or [so-...; so-...]")
        elif token not in known:
            from .constraints import did_you_mean_id

            yield finding(F.CIT001, file, line_no, column, token, f"cites {token!r}, which is not in {ctx.file('sources')}{did_you_mean_id(token, known)}")
        elif event_id is not None and linked is not None and (event_id, token) not in linked:
            yield finding(F.CIT001, file, line_no, column, token, f"cites {token!r}, which is not linked to event {event_id!r} in {ctx.file('event_sources')}: link it (stance supports, contradicts or context) or cite a linked source")


@hand_rule
def outlets_named_without_citation(ctx: Context) -> Iterable[Finding]:
    """CIT002: a sentence naming an outlet cites a source by ID."""
    quiet = ctx.carry.get("uncited_sentences") or []
    sources = ctx.frame("sources")
    if not quiet or sources is None:
        return
    names = pl.concat([sources["outlet"], sources["original_outlet"]]).drop_nulls().unique().to_list()
    names = sorted((n for n in names if len(n) >= 3), key=len, reverse=True)
    if not names:
        return
    # A name can match only in a sentence that contains it: find those in one pass, and compile
    # the (slow to compile) pattern of every name only if there are any.
    contains = pl.Series([sentence for *_, sentence in quiet], dtype=pl.String).str.contains_any(names)
    if not contains.any():
        return
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")
    for (file, line_no, column, sentence), candidate in zip(quiet, contains):
        if not candidate:
            continue
        match = pattern.search(sentence)
        if match:
            yield finding(F.CIT002, file, line_no, column, match.group(1), f"a sentence names {match.group(1)!r} without citing a source: add the source's ID in brackets, e.g. '... [so-...]'")


# ---------------------------------------------------------------- figures
@one_table_rule("figures")
def figure_quantities(ctx: Context) -> Iterable[Finding]:
    """FIG001 and FIG002: no repeated claims; one quantity, one metric and unit."""
    figures = ctx.frame("figures")
    if figures is None or "quantity" not in figures.columns:
        return
    file = ctx.file("figures")
    indexed = figures.with_row_index("_row")
    claim = ["event_id", "quantity", "source_id", "value"]
    repeated = indexed.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in claim]))
    repeated = repeated.with_columns(pl.col("_row").min().over(claim).alias("_first")).filter(pl.col("_row") != pl.col("_first"))
    for r in repeated.sort("_row").select("_row", "_first", "figure_id", *claim).to_dicts():
        yield finding(F.FIG001, file, line(r), "quantity", r["figure_id"], f"repeats the figure on line {r['_first'] + 2}: same event, quantity {r['quantity']!r}, source {r['source_id']!r} and value {r['value']:g}; retire one (data/retired_ids.csv)")
    measured = indexed.filter(pl.col("event_id").is_not_null() & pl.col("quantity").is_not_null())
    mixed = measured.with_columns(
        (pl.struct("metric", "unit").n_unique().over("event_id", "quantity") > 1).alias("_mixed"),
        pl.col("_row").min().over("event_id", "quantity").alias("_first"),
    ).filter(pl.col("_mixed") & (pl.col("_row") != pl.col("_first")))
    if mixed.height:
        firsts = indexed.select(pl.col("_row").alias("_first"), pl.col("metric").alias("_metric"), pl.col("unit").alias("_unit"))
        for r in mixed.join(firsts, on="_first").sort("_row").to_dicts():
            if (r["metric"], r["unit"]) == (r["_metric"], r["_unit"]):
                continue
            yield finding(F.FIG002, file, line(r), "quantity", r["quantity"], f"quantity {r['quantity']!r} of {r['event_id']!r} is {r['metric']} in {r['unit']} here but {r['_metric']} in {r['_unit']} on line {r['_first'] + 2}: one quantity needs one metric and unit (or give the other count its own quantity)")


# ---------------------------------------------------------------- source completeness
@one_table_rule("sources")
def source_publication_dates(ctx: Context) -> Iterable[Finding]:
    """SRC008: published_on and published_on_basis agree."""
    sources = ctx.frame("sources")
    if sources is None or "published_on_basis" not in sources.columns:
        return
    file = ctx.file("sources")
    basis, date = pl.col("published_on_basis"), pl.col("published_on")
    for r in rows(sources, (basis != "none") & date.is_null(), "source_id", "published_on_basis"):
        yield finding(F.SRC008, file, line(r), "published_on", r["source_id"], f"published_on is empty but published_on_basis is {r['published_on_basis']!r}: give the date, or set published_on_basis to 'none' if neither the page nor its address shows one")
    for r in rows(sources, (basis == "none") & date.is_not_null(), "source_id", "published_on"):
        yield finding(F.SRC008, file, line(r), "published_on", r["published_on"], "published_on_basis is 'none' (no date shown) but published_on has a date: set the basis to 'page' or 'url', or empty the date")
    in_url = sources.with_row_index("_row").filter((basis == "url") & date.is_not_null())
    if in_url.height:
        year = pl.col("published_on").dt.year().cast(pl.String)
        for r in in_url.filter(~pl.col("url").str.contains(year, literal=True)).select("_row", "url", "published_on").to_dicts():
            yield finding(F.SRC008, file, line(r), "published_on_basis", r["published_on"], f"published_on_basis is 'url' but the URL shows no year {r['published_on'].year}")


# ---------------------------------------------------------------- coverage checklist
@one_table_rule("checklist")
def checklist_entries(ctx: Context) -> Iterable[Finding]:
    """CHK001: covered entries name their event; the others say why they are left out."""
    checklist = ctx.frame("checklist")
    if checklist is None:
        return
    file = ctx.file("checklist")
    covered = pl.col("coverage") == "covered"
    for r in rows(checklist, covered & pl.col("event_id").is_null(), "entry_id"):
        yield finding(F.CHK001, file, line(r), "event_id", r["entry_id"], f"entry {r['entry_id']!r} is 'covered' but names no event: give the event_id that records it")
    for r in rows(checklist, ~covered & pl.col("event_id").is_not_null(), "entry_id", "coverage"):
        yield finding(F.CHK001, file, line(r), "coverage", r["coverage"], f"entry {r['entry_id']!r} names an event but its coverage is {r['coverage']!r}: set it to 'covered'")
    for r in rows(checklist, ~covered & pl.col("reason").is_null(), "entry_id", "coverage"):
        yield finding(F.CHK001, file, line(r), "reason", r["coverage"], f"entry {r['entry_id']!r} is not covered ({r['coverage']}): say why in reason")


# ---------------------------------------------------------------- scope
@hand_rule
def scope(ctx: Context) -> Iterable[Finding]:
    """SCOPE001: events outside the scope countries are foreign responses or involve a Chinese actor."""
    meta = ctx.contract.metadata
    countries = ((meta.get("scope") or meta.get("infocontrols:scope") or {}).get("countries")) or []
    events, links, actors = ctx.frame("events"), ctx.frame("event_actors"), ctx.frame("actors")
    if not countries or events is None:
        return
    outside = events.with_row_index("_row").filter(
        pl.col("country").is_not_null() & ~pl.col("country").is_in(countries) & (pl.col("event_type") != "foreign_response")
    )
    if outside.height == 0:
        return
    if links is not None and actors is not None:
        chinese = links.join(actors.filter(pl.col("country").is_in(countries)).select("actor_id"), on="actor_id", how="semi")
        outside = outside.join(chinese.select("event_id").unique(), on="event_id", how="anti")
    for r in outside.sort("_row").select("_row", "event_id", "country").to_dicts():
        yield finding(F.SCOPE001, ctx.file("events"), line(r), "country", r["country"], f"event {r['event_id']!r} takes place in {r['country']}, outside the scope countries ({', '.join(countries)}): it is in scope only as a foreign_response or with a Chinese actor taking part (docs/data-model.md#scope)")


# ---------------------------------------------------------------- ID shape
@table_rule
def id_words(ctx: Context, table) -> Iterable[Finding]:
    """KEY007: IDs never end on a function word (a slug cut off mid-phrase)."""
    from ..ids import FUNCTION_WORDS

    frame = ctx.frame(table.name)
    if frame is None or not table.id_prefix:
        return
    key = table.primary_key[0]
    last = pl.col(key).str.extract(r"-([a-z0-9]+)$", 1)
    for r in rows(frame, last.is_in(list(FUNCTION_WORDS)).fill_null(False), key):
        yield finding(F.KEY007, table.path, line(r), key, r[key], f"ID {r[key]!r} ends on the function word {r[key].rsplit('-', 1)[-1]!r}, as if cut off: choose a concise slug of meaningful words (and retire the old ID if it was published)")


# ---------------------------------------------------------------- text hygiene
def free_text_columns(table) -> list[str]:
    """Text columns that no pattern or vocabulary already confines to safe characters."""
    return [f.name for f in table.fields if f.is_text and not f.pattern and not f.vocabulary]


_HYGIENE = (
    (F.TXT002, lambda c: c.str.contains(FORBIDDEN_CHARS), "contains a control, bidirectional-override or zero-width character"),
    (F.TXT003, lambda c: c.str.contains(r"^\s|\s$"), "has leading or trailing whitespace; `infocontrols fmt` removes it"),
    (F.TXT004, lambda c: c.str.contains(r"^[=+\-@]"), "starts with '=', '+', '-' or '@', which spreadsheets run as a formula; reword it"),
    (F.TXT001, lambda c: c.str.normalize("NFC") != c, "is not in Unicode NFC form; `infocontrols fmt` normalises it"),
)


# The characters _nfc_singles() finds, as a regex class body, for the Unicode versions of
# Python 3.11 to 3.13 (the same set in each; another version computes its own). Computing
# it scans every code point, a tenth of a second that every run would pay.
_NFC_SINGLES_KNOWN = (
    r"\x{340}-\x{341}\x{343}-\x{344}\x{374}\x{37E}\x{387}\x{958}-\x{95F}\x{9DC}-\x{9DD}"
    r"\x{9DF}\x{A33}\x{A36}\x{A59}-\x{A5B}\x{A5E}\x{B5C}-\x{B5D}\x{F43}\x{F4D}\x{F52}"
    r"\x{F57}\x{F5C}\x{F69}\x{F73}\x{F75}-\x{F76}\x{F78}\x{F81}\x{F93}\x{F9D}\x{FA2}"
    r"\x{FA7}\x{FAC}\x{FB9}\x{1F71}\x{1F73}\x{1F75}\x{1F77}\x{1F79}\x{1F7B}\x{1F7D}"
    r"\x{1FBB}\x{1FBE}\x{1FC9}\x{1FCB}\x{1FD3}\x{1FDB}\x{1FE3}\x{1FEB}\x{1FEE}-\x{1FEF}"
    r"\x{1FF9}\x{1FFB}\x{1FFD}\x{2000}-\x{2001}\x{2126}\x{212A}-\x{212B}\x{2329}-\x{232A}"
    r"\x{2ADC}\x{F900}-\x{FA0D}\x{FA10}\x{FA12}\x{FA15}-\x{FA1E}\x{FA20}\x{FA22}\x{FA25}-"
    r"\x{FA26}\x{FA2A}-\x{FA6D}\x{FA70}-\x{FAD9}\x{FB1D}\x{FB1F}\x{FB2A}-\x{FB36}\x{FB38}-"
    r"\x{FB3C}\x{FB3E}\x{FB40}-\x{FB41}\x{FB43}-\x{FB44}\x{FB46}-\x{FB4E}\x{1D15E}-"
    r"\x{1D164}\x{1D1BB}-\x{1D1C0}\x{2F800}-\x{2FA1D}"
)
_NFC_SINGLES_VERSIONS = ("14.0.0", "15.0.0", "15.1.0")


def _nfc_singles() -> str:
    """A regex class body of the characters that NFC changes on their own (singletons,
    composition exclusions, CJK compatibility ideographs), from this Python's Unicode database."""
    import sys
    import unicodedata

    singles = [cp for cp in range(0x80, sys.maxunicode + 1)
               if not (0xD800 <= cp <= 0xDFFF) and not unicodedata.is_normalized("NFC", chr(cp))]
    ranges, start = [], None
    for a, b in zip(singles, singles[1:] + [None]):
        start = a if start is None else start
        if b != a + 1:
            ranges.append((start, a))
            start = None
    return "".join(f"\\x{{{x:X}}}" if x == y else f"\\x{{{x:X}}}-\\x{{{y:X}}}" for x, y in ranges)


@lru_cache(maxsize=1)
def _nfc_risk_class() -> str:
    """A regex class of every character that can make text non-NFC.

    Text is NFC unless it holds a character that NFC changes on its own (singletons,
    composition exclusions, CJK compatibility ideographs) or one that can combine with the
    character before it (combining marks, Hangul jamo). The first set comes from the Unicode
    database of this Python: recorded above for the versions it is known for, else computed once.
    """
    import unicodedata

    body = _NFC_SINGLES_KNOWN if unicodedata.unidata_version in _NFC_SINGLES_VERSIONS else _nfc_singles()
    return "[" + body + "\\p{M}\\x{1100}-\\x{11FF}\\x{A960}-\\x{A97F}\\x{D7B0}-\\x{D7FF}]"


def _suspect_pattern() -> str:
    return FORBIDDEN_CHARS + r"|^[\s=+\-@]|\s$|" + _nfc_risk_class()


@table_rule
def text_hygiene(ctx: Context, table) -> Iterable[Finding]:
    """TXT001-TXT004 over every free-text cell (coded and patterned fields cannot break them).

    One pass per column finds the suspect cells (odd characters, edge whitespace, a formula
    sign, or a character that can make text non-NFC); the exact checks then run on those
    cells only.
    """
    parsed = ctx.tables.get(table.name)
    if parsed is None or parsed.raw is None:
        return
    columns = [c for c in free_text_columns(table) if c in parsed.raw.columns]
    if columns:
        raw = parsed.raw.select(columns).with_row_index("_row")
        for column in columns:
            col = pl.col(column)
            suspect = raw.filter(col.str.contains(_suspect_pattern()))
            if suspect.height == 0:
                continue
            flags = suspect.select("_row", column, *[check(col).fill_null(False).alias(rule.id) for rule, check, _ in _HYGIENE])
            for rule, _, text in _HYGIENE:
                for index, value in flags.filter(pl.col(rule.id)).select("_row", column).iter_rows():
                    yield finding(rule, table.path, index + 2, column, value[:80], f"{column} {text}")


# ---------------------------------------------------------------- codes
def _iso_codes(database, root_key: str, attribute: str) -> frozenset[str]:
    """One attribute of every entry of a pycountry database, read from its JSON file.

    pycountry builds an object per entry (5,000 subdivisions: a few hundredths of a second);
    the codes alone come straight from the file it reads. Should the file not have the
    expected shape, pycountry's own objects are used.
    """
    import json

    try:
        with open(database.filename, encoding="utf-8") as handle:
            return frozenset(entry[attribute] for entry in json.load(handle)[root_key])
    except (AttributeError, OSError, ValueError, KeyError, TypeError):
        return frozenset(getattr(entry, attribute) for entry in database)


@lru_cache(maxsize=1)
def _iso_countries() -> frozenset[str]:
    import pycountry

    return _iso_codes(pycountry.countries, "3166-1", "alpha_2")


@lru_cache(maxsize=1)
def _iso_subdivisions() -> frozenset[str]:
    import pycountry

    return _iso_codes(pycountry.subdivisions, "3166-2", "code")


# Tags langcodes accepts (tests/test_fast_paths.py checks each against it), answered
# without importing langcodes: its import compiles a regex of every registered subtag, a
# tenth of a second. Any other tag is asked of langcodes.
COMMON_LANGUAGE_TAGS = frozenset({
    "ar", "bn", "bo", "cs", "da", "de", "en", "en-GB", "en-US", "es", "fa", "fi", "fr", "he", "hi",
    "id", "it", "ja", "kk", "km", "ko", "ky", "lo", "mn", "ms", "my", "ne", "nl", "no", "pl", "pt",
    "ru", "si", "sv", "ta", "th", "tl", "tr", "ug", "uk", "ur", "vi", "yue", "yue-Hant", "zh",
    "zh-CN", "zh-HK", "zh-Hans", "zh-Hant", "zh-Hant-HK", "zh-Hant-TW", "zh-MO", "zh-TW",
})


@lru_cache(maxsize=1)
def _iso_series() -> tuple[pl.Series, pl.Series]:
    """The country and subdivision codes, each as a one-row list Series for ``is_in``, built once
    (not per expression)."""
    return (pl.Series(sorted(_iso_countries()), dtype=pl.String).implode(),
            pl.Series(sorted(_iso_subdivisions()), dtype=pl.String).implode())


@lru_cache(maxsize=4096)
def _language_ok(tag: str) -> bool:
    if tag in COMMON_LANGUAGE_TAGS:
        return True
    import langcodes

    return langcodes.tag_is_valid(tag)


@table_rule
def iso_codes(ctx: Context, table) -> Iterable[Finding]:
    """ISO001, ISO002, ISO003: country, subdivision and language codes."""
    for frame in [ctx.frame(table.name)]:
        if frame is None:
            continue
        names = table.field_names
        if {"country", "admin1", "jurisdiction"} & set(names):
            countries, subdivisions = _iso_series()
        if "country" in names:
            for r in rows(frame, pl.col("country").is_not_null() & ~pl.col("country").is_in(countries), "country"):
                yield finding(F.ISO001, table.path, line(r), "country", r["country"], f"{r['country']!r} is not an ISO 3166-1 alpha-2 country code")
        if "admin1" in names:
            bad = pl.col("admin1").is_not_null() & ~pl.col("admin1").is_in(subdivisions)
            for r in rows(frame, bad, "admin1"):
                yield finding(F.ISO002, table.path, line(r), "admin1", r["admin1"], f"{r['admin1']!r} is not an ISO 3166-2 subdivision code")
            if "country" in names:
                other = pl.col("admin1").is_in(subdivisions) & (pl.col("admin1").str.slice(0, 2) != pl.col("country"))
                for r in rows(frame, other.fill_null(False), "admin1", "country"):
                    yield finding(F.ISO002, table.path, line(r), "admin1", r["admin1"], f"{r['admin1']!r} is not a subdivision of country {r['country']!r}")
        if "jurisdiction" in names:
            bad = pl.col("jurisdiction").is_not_null() & ~(pl.col("jurisdiction").is_in(countries) | pl.col("jurisdiction").is_in(subdivisions))
            for r in rows(frame, bad, "jurisdiction"):
                yield finding(F.ISO002, table.path, line(r), "jurisdiction", r["jurisdiction"], f"{r['jurisdiction']!r} is neither an ISO 3166-1 country code nor an ISO 3166-2 subdivision code")
        if "language" in names:
            tags = frame["language"].drop_nulls().unique().to_list()
            bad_tags = [t for t in tags if not _language_ok(t)]
            for r in rows(frame, pl.col("language").is_in(bad_tags), "language"):
                yield finding(F.ISO003, table.path, line(r), "language", r["language"], f"{r['language']!r} is not a valid BCP 47 language tag (e.g. en, zh-Hans, zh-Hant)")


# ---------------------------------------------------------------- order
@table_rule
def sorted_rows(ctx: Context, table) -> Iterable[Finding]:
    """ORD001: rows sorted by primary key (the first row out of place is reported)."""
    for frame in [ctx.frame(table.name)]:
        key = list(table.sort_key)
        if frame is None or frame.height < 2 or not key:
            continue
        order = frame.select(key).with_row_index("_row").sort(key, nulls_last=True, maintain_order=True)["_row"]
        misplaced = (order != pl.Series(range(frame.height), dtype=order.dtype))
        if not misplaced.any():
            continue
        position = misplaced.arg_true()[0]
        row = order[position]
        value = ",".join(str(frame[k][position]) for k in key)
        should = ",".join(str(frame[k][row]) for k in key)
        yield finding(F.ORD001, table.path, position + 2, ",".join(key), value, f"rows are not sorted by ({', '.join(key)}): line {row + 2} ({should!r}) belongs here; `infocontrols fmt` sorts the file")
