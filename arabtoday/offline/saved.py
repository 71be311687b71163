"""Saved pages in, bounded: what ``python -m arabtoday extract`` reads.

A saved file is whatever a user has: a page saved by a browser, ``curl`` or
``wget`` (``.html``, maybe gzip-compressed), a WARC from any crawler, a page
piped on stdin, a copy fetched from the Wayback Machine. None of them decides
how much memory a run spends: every page, decompressed, and every WARC
record's payload is read up to ``DOWNLOAD_MAXSIZE`` (the crawl's own bound),
gzip is inflated as a stream, and WARC records are framed here rather than
trusted: a record whose ``Content-Length`` points past its real end would
otherwise swallow the records after it, and one cut short would otherwise be
emitted as a half article.

Reading never raises for bad input: :func:`read_input` yields a
:class:`Problem` (its ``kind`` is the ``arabtoday/errors/<kind>`` stat) and
carries on with what can still be read.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import filetype
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeadersParser, StatusAndHeadersParserException

from arabtoday.archive.replay import OK_STATUSES
from arabtoday.archive.warc import CAPTURED_HEADER, ORIGIN_HEADER, ORIGINAL_HEADER
from arabtoday.cleaning.dates import iso, parse_iso
from arabtoday.schema import COMMONCRAWL, LIVE_ORIGIN, WAYBACK

STDIN = "-"
STDIN_LABEL = "<stdin>"
GZIP_MAGIC = b"\x1f\x8b"
WARC_MAGIC = b"WARC/1."
CHUNK = 64 * 1024  # read size for streams; also what is kept of a record to read its HTTP head
READ_MAX = 1024 * 1024  # the most one read asks for: a large fill grows the buffer, not a second copy
HEADER_LIMIT = 64 * 1024  # a WARC or HTTP head larger than this is not one
SNIFF_BYTES = 4096  # how much of a file is looked at to tell HTML from other things

# Problem kinds, each an ``arabtoday/errors/<kind>`` stat (``docs/running.md``, "What extract reads").
UNREADABLE = "unreadable"
OVERSIZED = "oversized"
EMPTY = "empty_file"
NOT_HTML = "not_html"
TRUNCATED_RECORD = "truncated_record"
BAD_RECORD_LENGTH = "bad_record_length"

# A record ends with CRLF CRLF and the next one starts with its version line:
# seeing this inside a record's declared span means the length lies.
_NEXT_RECORD = re.compile(rb"\r\n\r\nWARC/1\.[01]\r\n")
_NEXT_RECORD_LOOKAHEAD = len(b"\r\n\r\nWARC/1.0\r\n")
_RECORD_START = re.compile(rb"(?:^|\n)(WARC/1\.[01]\r?\n)")
_RECORD_START_LEN = len(b"\nWARC/1.0\r\n")
_HTML_MARKERS = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|link|script|style|div|p|article|section|h[1-6]|table|a\s)[\s>/]",
    re.IGNORECASE)
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BINARY_SHARE = 0.1  # share of control bytes above which a file is binary, not text
_ARC_SUFFIXES = (".arc", ".arc.gz")
_HTTP_HEAD = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)


@dataclass(frozen=True)
class SavedPage:
    """One page to extract: its bytes (decompressed, within the bound) and the address it was saved from."""

    label: str  # file, and WARC record, for messages
    body: bytes
    url: str | None
    content_type: str | None = None
    status: int | None = None  # the HTTP status a WARC response record gives (None: a saved file)
    # Provenance: where it was captured (an archive's address says so), when (an archive's timestamp, a
    # WARC record's date, a saved file's modification time), and for a WARC record its file and id.
    origin: str = LIVE_ORIGIN
    captured_at: str | None = None
    warc_file: str | None = None
    warc_record_id: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something in an input that could not be read as a page; counted, reported, never fatal."""

    label: str
    kind: str
    message: str


Item = SavedPage | Problem


# --------------------------------------------------------------------------- web-archive addresses

_WAYBACK_HOSTS = r"(?:web\.)?archive\.org"
_WAYBACK_ADDRESS = re.compile(
    rf"^(?:https?:)?//{_WAYBACK_HOSTS}/web/(?P<ts>\d{{1,14}})\*?(?:[a-z]{{2}}_)?/(?P<orig>.+)$", re.IGNORECASE)
# In a page the Wayback Machine serves, links point at its copies: absolute
# (https://web.archive.org/web/2017.../https://site/...) or rooted
# (/web/2017...im_/https://site/...). Removing the prefix restores the original.
_WAYBACK_LINK_PREFIX = re.compile(
    rf"(?:(?:https?:)?//{_WAYBACK_HOSTS})?/web/\d{{1,14}}\*?(?:[a-z]{{2}}_)?/(?=https?:/)", re.IGNORECASE)
_WAYBACK_HEAD_INSERT = re.compile(r"(<head\b[^>]*>).*?<!-- End Wayback Rewrite JS Include -->",
                                  re.IGNORECASE | re.DOTALL)
_WAYBACK_TOOLBAR = re.compile(r"<!-- BEGIN WAYBACK TOOLBAR INSERT -->.*?<!-- END WAYBACK TOOLBAR INSERT -->",
                              re.DOTALL)
_SCHEME_SLASHES = re.compile(r"^(https?):/*", re.IGNORECASE)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
WAYBACK_STAMP_DIGITS = 14  # YYYYMMDDhhmmss


def capture_of(url: str | None, when: str | None) -> tuple[str, str | None]:
    """(origin, captured_at) of a page saved from ``url`` at ``when``: a Wayback Machine address
    names its own capture time (``/web/20171015064916id_/…``), which wins."""
    m = _WAYBACK_ADDRESS.match(url.strip()) if url else None
    if m is None:
        return LIVE_ORIGIN, when
    stamp = (m["ts"] + "0" * WAYBACK_STAMP_DIGITS)[:WAYBACK_STAMP_DIGITS]  # a shorter stamp means its start
    try:
        return WAYBACK, iso(datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc))
    except ValueError:
        return WAYBACK, when


def original_url(url: str) -> str:
    """The site's own address behind a web-archive address; any other address unchanged.

    ``https://web.archive.org/web/20171015064916id_/https://www.arabstoday.net/en/...``
    -> ``https://www.arabstoday.net/en/...``: the record must carry the site's
    canonical address (and so its id), whichever copy the page was saved from.
    """
    m = _WAYBACK_ADDRESS.match(url.strip())
    if not m:
        return url
    orig = m["orig"]
    scheme = _SCHEME_SLASHES.match(orig)
    if scheme is None:  # the archive also accepts addresses without a scheme
        orig = "http://" + orig
        scheme = _SCHEME_SLASHES.match(orig)
    assert scheme is not None
    name = scheme[1].lower()
    rest = orig[scheme.end():]
    host, sep, path = rest.partition("/")
    host = host.removesuffix(_DEFAULT_PORTS[name])  # old captures name the port: www.site:80
    return f"{name}://{host}{sep}{path}"


def restore_archived_page(html: str) -> str:
    """A page as the site served it, from the copy a web archive serves.

    The Wayback Machine inserts its scripts and toolbar and rewrites every link
    to point at its own copies; left in, the toolbar's text could reach a
    fallback body and the record's ``url`` and ``image_url`` would name the
    archive, not the site. Pages that are not archive copies are returned as is.
    """
    if "/web/" not in html:
        return html
    html = _WAYBACK_HEAD_INSERT.sub(r"\1", html, count=1)
    html = _WAYBACK_TOOLBAR.sub("", html, count=1)
    return _WAYBACK_LINK_PREFIX.sub("", html)


# --------------------------------------------------------------------------- bounded streams

class _Reader:
    """A buffered reader over a raw or gzip stream that can look ahead.

    Framing WARC records needs to look past a record's declared end without
    losing bytes; the buffer never holds more than a few chunks. A compressed
    stream that ends early or is corrupt ends the stream; ``damage`` says why.
    """

    def __init__(self, raw: BinaryIO, head: bytes = b"") -> None:
        self._raw = raw
        self._buf = bytearray(head)
        self._start = 0
        self.eof = False
        self.damage: str | None = None
        self.damage_kind = TRUNCATED_RECORD
        self.damage_reported = False  # said once, by the record it cut short
        self.offset = 0  # bytes consumed so far (decompressed), for messages

    def give_up(self, kind: str, why: str) -> None:
        """Read no further: the rest of the stream cannot be framed."""
        self.eof, self.damage, self.damage_kind = True, why, kind
        self._buf, self._start = bytearray(), 0

    def available(self) -> int:
        return len(self._buf) - self._start

    def fill(self, n: int) -> int:
        """Buffer at least ``n`` bytes unless the stream ends first; the number buffered."""
        while self.available() < n and not self.eof:
            try:
                # read1: what one underlying read gives, so that an error later in
                # the stream does not take the bytes before it along
                chunk = self._raw.read1(min(max(CHUNK, n - self.available()), READ_MAX))
            except EOFError:
                chunk, self.damage = b"", "the compressed data ends early (file cut short)"
            except (gzip.BadGzipFile, zlib.error) as exc:  # other OSErrors are the file's own: not caught here
                chunk, self.damage, self.damage_kind = b"", f"corrupt compressed data ({exc})", UNREADABLE
            if not chunk:
                self.eof = True
                break
            if self._start > CHUNK and self._start * 2 > len(self._buf):
                del self._buf[: self._start]
                self._start = 0
            self._buf += chunk
        return self.available()

    def peek(self, n: int) -> bytes:
        self.fill(n)
        return bytes(self._buf[self._start: self._start + n])

    def view(self) -> memoryview:
        return memoryview(self._buf)[self._start:]

    def find(self, pattern: re.Pattern[bytes], end: int) -> int | None:
        """Where the first match starts, relative to here, if it starts before ``end`` (it may extend past it)."""
        m = pattern.search(self._buf, self._start, self._start + end + _NEXT_RECORD_LOOKAHEAD)
        return m.start() - self._start if m is not None and m.start() - self._start < end else None

    def find_bytes(self, sub: bytes, limit: int) -> int:
        """Where ``sub`` starts within the next ``limit`` bytes, relative to here; -1 if it does not."""
        seen = 0
        while True:
            found = self._buf.find(sub, self._start + max(0, seen - len(sub)), self._start + limit)
            if found >= 0:
                return found - self._start
            if self.eof or seen >= limit:
                return -1
            seen = self.available()
            self.fill(min(limit, seen + CHUNK))

    def read(self, n: int) -> bytes:
        self.fill(n)
        with memoryview(self._buf) as view:  # one copy, not two
            data = view[self._start: self._start + n].tobytes()
        self._start += len(data)
        self.offset += len(data)
        return data

    def skip(self, n: int) -> None:
        self._start += n
        self.offset += n


def _open(source: str | Path, stdin: BinaryIO | None) -> tuple[BinaryIO, str]:
    if str(source) == STDIN:
        return (stdin or sys.stdin.buffer), STDIN_LABEL
    return Path(source).open("rb"), str(source)


def _decompressing(raw: BinaryIO) -> _Reader:
    """A reader of the stream's content: inflated as it is read when it is gzip, else as is."""
    head = raw.read(len(GZIP_MAGIC))
    if head == GZIP_MAGIC:
        return _Reader(gzip.GzipFile(fileobj=_Prefixed(head, raw), mode="rb"))
    return _Reader(raw, head)


class _Prefixed(io.RawIOBase):
    """A stream with bytes already read put back in front (stdin cannot seek)."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._raw.read(len(b))
        b[: len(data)] = data
        return len(data)


# --------------------------------------------------------------------------- what a file is

def describe_non_html(data: bytes) -> str | None:
    """Why ``data`` is not an HTML page ("empty file", "not HTML (looks like PNG)"), or None if it may be one.

    Said before extraction so that a user who passed the wrong file hears what
    the file is, not that its address is not an article's.
    """
    if not data.strip():
        return "empty file"
    head = data[:SNIFF_BYTES]
    kind = filetype.guess(head)
    if kind is not None:
        return f"not HTML (looks like {kind.extension.upper()})"
    if head.startswith(_UTF16_BOMS) or _HTML_MARKERS.search(head):
        return None
    if len(_BINARY_BYTES.findall(head)) > _BINARY_SHARE * len(head):
        return "not HTML (binary data)"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "not HTML (looks like JSON)"
    if text.startswith(b"<"):
        return "not HTML (looks like XML)"
    return "not HTML (plain text)"


def read_input(source: str | Path, url: str | None, max_size: int, stdin: BinaryIO | None = None) -> Iterator[Item]:
    """The pages in one input (a file, or ``-`` for stdin), and its problems, in order.

    ``url``: the address the page was saved from (a web-archive address is
    mapped to the site's). A WARC is recognised by its content, compressed or
    not, whatever its name.
    """
    label = STDIN_LABEL if str(source) == STDIN else str(source)
    if label.lower().endswith(_ARC_SUFFIXES):
        yield Problem(label, UNREADABLE, "ARC files are not supported (only WARC)")
        return
    try:
        raw, label = _open(source, stdin)
    except OSError as exc:
        yield Problem(label, UNREADABLE, f"cannot read: {exc.strerror or exc}")
        return
    try:
        yield from _read_stream(raw, label, url, max_size)
    except OSError as exc:  # a read error from the file itself (EIO, EISDIR)
        yield Problem(label, UNREADABLE, f"cannot read: {exc.strerror or exc}")
    finally:
        if raw is not stdin and raw is not sys.stdin.buffer:
            raw.close()


def _read_stream(raw: BinaryIO, label: str, url: str | None, max_size: int) -> Iterator[Item]:
    reader = _decompressing(raw)
    head = reader.peek(len(WARC_MAGIC))
    if reader.damage:
        yield Problem(label, UNREADABLE, f"not valid gzip: {reader.damage}")
        return
    if head == WARC_MAGIC:
        yield from read_warc(reader, label, max_size)
        return
    if label.lower().endswith((".warc", ".warc.gz")):
        what = describe_non_html(reader.peek(SNIFF_BYTES))
        detail = "an HTML page" if what is None else what.removeprefix("not HTML (").removesuffix(")")
        yield Problem(label, UNREADABLE, f"not a WARC file ({detail})")
        return
    size = reader.fill(max_size + 1)
    if reader.damage:
        yield Problem(label, UNREADABLE, f"not valid gzip: {reader.damage}")
    elif size > max_size:
        yield Problem(label, OVERSIZED, f"larger than {max_size} bytes (DOWNLOAD_MAXSIZE), skipped")
    elif (why := describe_non_html(data := reader.read(size))) is not None:
        yield Problem(label, EMPTY if why == "empty file" else NOT_HTML, f"skipped, {why}")
    else:
        origin, captured = capture_of(url, _modified(raw))
        yield SavedPage(label, data, original_url(url) if url else None, origin=origin, captured_at=captured)


def _modified(raw: BinaryIO) -> str | None:
    """When a saved file was last written (its capture, as far as anyone knows); None for a pipe."""
    try:
        return iso(datetime.fromtimestamp(os.fstat(raw.fileno()).st_mtime, timezone.utc))
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


# --------------------------------------------------------------------------- WARC

@dataclass
class _Record:
    start: int  # offset of the record in the (decompressed) stream
    headers: dict[str, str]  # names in lower case
    length: int


def read_warc(reader: _Reader, label: str, max_size: int) -> Iterator[Item]:
    """HTML pages from WARC ``response`` (and ``resource``) records, each framed and bounded.

    A record's ``Content-Length`` is checked against what is really there:
    the next record's version line inside the declared span (length
    overstated), something other than the next record right after it (length
    understated) or the end of the data before it (cut short) make the record
    a counted problem, never an article, and reading goes on at the next record.
    """
    while True:
        record = _next_record(reader, label)
        if isinstance(record, Problem):
            yield record
            _resync(reader, max_size)
            continue
        if record is None:
            return
        yield from _record_items(reader, record, label, max_size)


def _skip_blank(reader: _Reader) -> None:
    while reader.fill(1) and reader.peek(1) in (b"\r", b"\n"):
        reader.skip(1)


def _next_record(reader: _Reader, label: str) -> _Record | Problem | None:
    _skip_blank(reader)
    if not reader.fill(1):
        if reader.damage and not reader.damage_reported:
            reader.damage_reported = True
            return Problem(label, reader.damage_kind, f"at byte {reader.offset}: {reader.damage}")
        return None
    start = reader.offset
    where = f"{label}@{start}"
    if reader.peek(len(WARC_MAGIC)) != WARC_MAGIC:
        return Problem(where, BAD_RECORD_LENGTH, "no WARC record where one should start (a length before it is "
                                                 "wrong); skipped to the next record")
    end = reader.find_bytes(b"\r\n\r\n", HEADER_LIMIT)
    if end < 0:
        if reader.eof and reader.available() < HEADER_LIMIT:
            return Problem(where, TRUNCATED_RECORD, "the record's head is cut short")
        return Problem(where, BAD_RECORD_LENGTH, f"record head longer than {HEADER_LIMIT} bytes")
    head = reader.read(end + len(b"\r\n\r\n"))
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    try:
        length = int(headers["content-length"])
        if length < 0:
            raise ValueError(length)
    except (KeyError, ValueError):
        return Problem(where, BAD_RECORD_LENGTH, "record without a valid Content-Length")
    return _Record(start, headers, length)


def _resync(reader: _Reader, limit: int) -> bool:
    """Skip to the next line that starts a WARC record; False when there is none.

    Looks at most ``limit`` bytes ahead: past that the rest of the file is
    given up (reported once), so that garbage (or a compressed bomb) costs a
    bounded time, not the time to inflate all of it.
    """
    reader.skip(min(1, reader.available()))  # past the bad start itself
    scanned = 0
    while scanned <= limit:
        reader.fill(CHUNK)
        m = _RECORD_START.search(reader.view().tobytes())
        if m:
            reader.skip(m.start(1))
            return True
        if reader.eof:
            reader.skip(reader.available())
            return False
        step = max(0, reader.available() - _RECORD_START_LEN)
        reader.skip(step)
        scanned += step
    reader.give_up(BAD_RECORD_LENGTH, f"no WARC record in the {limit} bytes after byte {reader.offset - scanned}; "
                                      "the rest of the file is skipped")
    return False


def _wanted(record: _Record) -> bool:
    """HTTP responses (not ``dns:`` and other non-HTTP responses) and HTML resources."""
    kind = record.headers.get("warc-type", "")
    ctype = record.headers.get("content-type", "").lower()
    if kind == "response":
        return not ctype or "application/http" in ctype
    return kind == "resource" and "html" in ctype


def _record_items(reader: _Reader, record: _Record, label: str, max_size: int) -> Iterator[Item]:
    target = record.headers.get("warc-target-uri", "").strip("<>")
    where = f"{label}#{target or record.start}"
    keep_all = record.length <= max_size + HEADER_LIMIT  # the HTTP head is not part of the payload bound
    block, status = _read_block(reader, record.length, record.length if keep_all else CHUNK, max_size)
    if status is not None:
        kind, why = status
        yield Problem(where, kind, f"{why}; not used")
        return
    if not _wanted(record):
        return
    yield from _page_from_record(record, block, where, target, max_size, whole=keep_all, label=label)


def _read_block(reader: _Reader, length: int, keep: int, max_size: int) -> tuple[bytes, tuple[str, str] | None]:
    """Read a record's block (keeping its first ``keep`` bytes); a problem when the declared length is wrong."""
    kept = bytearray()
    remaining = length
    while remaining > 0:
        reader.fill(min(remaining, CHUNK) + _NEXT_RECORD_LOOKAHEAD)
        inside = reader.find(_NEXT_RECORD, remaining)
        if inside is not None:
            reader.skip(inside)
            return bytes(kept), (BAD_RECORD_LENGTH, f"Content-Length {length} runs into the next record "
                                                    f"(the record has {length - remaining + inside} bytes)")
        n = min(remaining, reader.available(), CHUNK)
        if n == 0:
            why = reader.damage or "the file ends"
            reader.damage_reported = True
            return bytes(kept), (TRUNCATED_RECORD, f"cut short: {length - remaining} of {length} bytes ({why})")
        chunk = reader.read(n)
        if len(kept) < keep:
            kept += chunk[: keep - len(kept)]
        remaining -= n
    after = reader.peek(_NEXT_RECORD_LOOKAHEAD).lstrip(b"\r\n")
    if after and not WARC_MAGIC.startswith(after[: len(WARC_MAGIC)]):
        _resync(reader, max_size)
        return bytes(kept), (BAD_RECORD_LENGTH, f"Content-Length {length} ends before the record does")
    return bytes(kept), None


def _page_from_record(record: _Record, block: bytes, where: str, target: str, max_size: int, *,
                      whole: bool, label: str) -> Iterator[Item]:
    """The HTML page in a framed record's block (warcio reads its HTTP head and undoes its encodings)."""
    stream = io.BytesIO(block)
    try:
        http = _HTTP_HEAD.parse(stream) if record.headers.get("warc-type") == "response" else None
        ctype = (http.get_header("Content-Type") if http else record.headers.get("content-type")) or ""
        archived = record.headers.get(ORIGIN_HEADER.lower())
        if "html" not in ctype.lower() and archived != COMMONCRAWL:
            return
        if not whole:
            yield Problem(where, OVERSIZED, f"record larger than {max_size} bytes (DOWNLOAD_MAXSIZE), skipped")
            return
        # content_stream needs only the HTTP head and the stream: dechunked, decompressed, read within the bound
        payload = ArcWarcRecord("warc", "response", None, stream, http, ctype, record.length).content_stream()
        body = payload.read(max_size + 1)
    except (StatusAndHeadersParserException, ValueError, OSError, EOFError, zlib.error) as exc:
        yield Problem(where, UNREADABLE, f"record cannot be decoded: {exc}")
        return
    if len(body) > max_size:
        yield Problem(where, OVERSIZED, f"payload larger than {max_size} bytes (DOWNLOAD_MAXSIZE), skipped")
        return
    code = http.get_statuscode() if http else None
    origin, captured = capture_of(target, _captured_at(record.headers.get("warc-date")))
    if archived:  # a page a backfill read from an archive: the provenance the crawl gave it (arabtoday.archive.warc)
        origin, captured = archived, record.headers.get(CAPTURED_HEADER.lower()) or captured
        target = record.headers.get(ORIGINAL_HEADER.lower()) or target
    page = SavedPage(where, body, original_url(target) if target else None, ctype,
                     status=int(code) if code and code.isdigit() else None, origin=origin,
                     captured_at=captured, warc_file=Path(label).name,
                     warc_record_id=record.headers.get("warc-record-id"))
    if archived == COMMONCRAWL:  # the byte range that carried a Common Crawl record: the page is inside
        yield from _inner_pages(page, max_size)
        return
    yield page


def _inner_pages(outer: SavedPage, max_size: int) -> Iterator[Item]:
    """The HTML page of the WARC record a fetched byte range holds, with the outer record's provenance
    (the file and record that hold what was fetched, the archive's capture time)."""
    if outer.status is not None and outer.status not in OK_STATUSES:
        yield outer  # an error answer: skipped by its status, as the crawl does
        return
    for item in _read_stream(io.BytesIO(outer.body), outer.label, None, max_size):
        if isinstance(item, Problem):
            yield item
            continue
        yield replace(item, url=outer.url or item.url, origin=outer.origin,
                      captured_at=outer.captured_at or item.captured_at, warc_file=outer.warc_file,
                      warc_record_id=outer.warc_record_id)


def _captured_at(warc_date: str | None) -> str | None:
    """A record's ``WARC-Date`` as the record fields write times (seconds, UTC)."""
    when = parse_iso(warc_date)
    return iso(when) if when else None
