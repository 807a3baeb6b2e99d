"""Hosts, outlets and copies: which site a source's page is on, and how to credit it to readers.

``schema/hosts.csv`` lists every web host that sources are published on, with the outlet
its pages are credited to and its kind (vocabulary ``host_kind``):

- ``outlet_site``: the outlet's own site (it may carry syndicated text, named in
  ``original_outlet``);
- ``copy_site``: a site that republishes other outlets' text (mirrors, content farms,
  forum reposts, document-sharing and feed-copy sites): a page on it is a copy of
  ``original_outlet``'s text, and readers must be told so;
- ``platform``: a host of many independent publishers, where a page's outlet is the
  publisher named on it.

A source's host is its URL's host in lowercase, without a leading ``www.`` or a trailing
dot. A row covers that host and, unless they have a row of their own, its subdomains: the
longest listed parent domain wins (``news.example.com`` -> ``example.com``).

This module is the one place those definitions are written: the validator (HOST001-HOST004),
``infocontrols add``, the SQLite export and :func:`infocontrols.events_wide` use it. It
imports only the standard library.

Example:
    >>> url_host("https://WWW.Example.com./a?b")
    'example.com'
    >>> covering_host("news.example.com", {"example.com", "other.org"})
    'example.com'
    >>> attribution("ming7.cn", "China Daily", "ming7.cn", "copy_site")
    "copy on ming7.cn of China Daily's text"
"""
from __future__ import annotations

import re
from collections.abc import Container

HOSTS_TABLE = "hosts"
HOSTS_FILE = "schema/hosts.csv"
OUTLET_SITE, COPY_SITE, PLATFORM = "outlet_site", "copy_site", "platform"
# Kinds whose rows name the one outlet every page on the host is credited to (HOST002).
CHECKED_KINDS = (OUTLET_SITE, COPY_SITE)
# The host part of a URL's authority (after any user@, before any :port). The validator runs
# the same pattern in polars over every URL, so that both readings agree.
URL_HOST_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:@\[\]]*)"
_URL_HOST = re.compile(URL_HOST_PATTERN)


def normal_host(host: str) -> str:
    """A host name as the hosts table writes it: lowercase, no leading 'www.', no trailing dot.

    Example:
        >>> normal_host("WWW.Reuters.com.")
        'reuters.com'
    """
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def url_host(url: str | None) -> str | None:
    """The normal host of an absolute http(s) URL, or None when it has none.

    Example:
        >>> url_host("http://user@news.CCTV.com:80/x"), url_host("not a url")
        ('news.cctv.com', None)
    """
    match = _URL_HOST.match(url) if url else None
    host = normal_host(match.group(1)) if match else ""
    return host or None


def covering_host(host: str | None, listed: Container[str]) -> str | None:
    """The row of the hosts table that covers ``host``: itself, else its longest listed parent domain.

    Example:
        >>> covering_host("a.b.example.com", {"example.com", "b.example.com"})
        'b.example.com'
        >>> covering_host("example.com.evil.cn", {"example.com"}) is None
        True
    """
    if not host:
        return None
    labels = host.split(".")
    for start in range(len(labels) - 1):  # never a bare top-level domain
        candidate = ".".join(labels[start:])
        if candidate in listed:
            return candidate
    return None


def attribution(outlet: str | None, original_outlet: str | None, host: str | None, kind: str | None) -> str:
    """How a source is credited to readers: a page on a copy site is labelled as a copy.

    - copy site: "copy on HOST of ORIGINAL's text" (or, without original_outlet,
      "copy on HOST; whose text it is is not recorded");
    - otherwise: the outlet, and "OUTLET, carrying ORIGINAL's text" for syndicated text.

    Example:
        >>> attribution("The Straits Times", "AFP", "straitstimes.com", "outlet_site")
        "The Straits Times, carrying AFP's text"
        >>> attribution("rssing.com", None, "koetse3.rssing.com", "copy_site")
        'copy on koetse3.rssing.com; whose text it is is not recorded'
    """
    if kind == COPY_SITE:
        where = host or outlet or "another site"
        if original_outlet:
            return f"copy on {where} of {original_outlet}'s text"
        return f"copy on {where}; whose text it is is not recorded"
    if original_outlet and original_outlet != outlet:
        return f"{outlet}, carrying {original_outlet}'s text"
    return outlet or ""


def source_hosts(sources, hosts):
    """Per source: its URL host, the hosts-table row that covers it, that row's kind, and its attribution.

    ``sources`` and ``hosts`` are polars frames with the tables' columns (codes as strings
    or categoricals). Returns a polars frame: ``source_id``, ``host`` (the covering row,
    null when none covers it), ``host_kind`` and ``attribution``, in the order of ``sources``.

    Example:
        >>> import polars as pl
        >>> s = pl.DataFrame({"source_id": ["so-a"], "url": ["https://m.ming7.cn/x"],
        ...                   "outlet": ["ming7.cn"], "original_outlet": ["China Daily"]})
        >>> h = pl.DataFrame({"host": ["ming7.cn"], "outlet": ["ming7.cn"], "kind": ["copy_site"]})
        >>> source_hosts(s, h).row(0)
        ('so-a', 'ming7.cn', 'copy_site', "copy on m.ming7.cn of China Daily's text")
    """
    import polars as pl

    kinds = dict(zip(hosts["host"].cast(pl.String).to_list(), hosts["kind"].cast(pl.String).to_list()))
    rows = []
    for source_id, url, outlet, original in sources.select(
        "source_id", "url", pl.col("outlet").cast(pl.String), pl.col("original_outlet").cast(pl.String)
    ).iter_rows():
        host = url_host(url)
        listed = covering_host(host, kinds)
        kind = kinds.get(listed) if listed else None
        rows.append((source_id, listed, kind, attribution(outlet, original, host, kind)))
    schema = {"source_id": pl.String, "host": pl.String, "host_kind": pl.String, "attribution": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


__all__ = [
    "HOSTS_TABLE", "HOSTS_FILE", "URL_HOST_PATTERN", "OUTLET_SITE", "COPY_SITE", "PLATFORM", "CHECKED_KINDS",
    "normal_host", "url_host", "covering_host", "attribution", "source_hosts",
]
