"""The run report as one self-contained HTML page.

A person opens ``<output>.report.html`` from disk, with no network: the
numbers are rendered here as HTML tables, the charts are drawn by a small
inline script as SVG from the report JSON embedded in the page. A Content
Security Policy forbids every fetch, so the page cannot come to depend on a
CDN without the browser test noticing. When the script has drawn its charts it
sets ``data-charts-rendered`` on ``<body>`` to their number: a test (or a
person) can tell "rendered" from "blank".

Charts: articles per published day and edition; extractor mix over time (a
redesign of the site shows as a step from one extractor to another); where
article pages ended other than emitted (drop, failure, duplicate and skip
reasons); field coverage; response times.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from arabtoday.files import atomic_write_text
from arabtoday.stats import NOT_EMITTED

CHARTS = ("published", "extractors", "reasons", "coverage", "latency")
CHART_TITLES = {
    "published": "Articles per published day (month, year for long spans) and edition",
    "extractors": "Extractor mix over time (share of records per period: a redesign shows as a step)",
    "reasons": "Where article pages ended, other than emitted",
    "coverage": "Field coverage (share of emitted records with the field filled)",
    "latency": "Response times (download latency)",
}
# What the script needs: the rest of the report is rendered as tables here.
EMBEDDED_KEYS = ("charts", "accounting", "dropped", "duplicates", "skipped")
STATUS_CLASS = {0: "ok", 3: "warn"}  # every other non-zero status is an error


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(rows: Iterable[tuple[Any, Any]], empty: str = "none") -> str:
    body = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>" if body else f"<p class='muted'>{_e(empty)}</p>"


def _script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</script>`` or ``<!--`` can close or confuse the element."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _accounting_rows(acc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("requested", acc.get("requested", 0)), ("emitted", acc.get("emitted", 0))]
    for bucket in NOT_EMITTED:
        detail = acc.get(bucket) or {}
        inner = ", ".join(f"{k} {v}" for k, v in detail.items())
        rows.append((bucket, f"{sum(detail.values())}" + (f" ({inner})" if inner else "")))
    rows += [("sum of the buckets", acc.get("sum", 0)), ("difference", acc.get("difference", 0))]
    return rows


def _summary(report: Mapping[str, Any]) -> str:
    versions = report.get("versions") or {}
    emitted = report.get("emitted") or {}
    run_rows = [
        ("started", report.get("started_at")), ("finished", report.get("finished_at")),
        ("duration", f"{report.get('duration_seconds', '?')} s"), ("finish reason", report.get("finish_reason")),
        ("output", report.get("output")),
        ("pages fetched", f"{report.get('pages_fetched', 0)} ({report.get('retries', 0)} retries, "
                          f"{report.get('pages_per_second', 0)} pages/s)"),
        ("records emitted", f"{emitted.get('total', 0)} (new {emitted.get('new', 0)}, "
                            f"updated {emitted.get('updated', 0)})"),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
    ]
    acc = report.get("accounting") or {}
    acc_class, acc_word = (("warn", "not checked: one worker of a distributed crawl")
                           if acc.get("difference") and not acc.get("checked", True)
                           else ("err", "does not add up") if acc.get("difference") else ("ok", "adds up"))
    log_count = report.get("log_count") or {}
    settings = report.get("settings") or {}
    return f"""
<section class="grid">
  <div><h2>Run</h2>{_table(run_rows)}</div>
  <div><h2>Accounting <span class="badge {acc_class}">{acc_word}</span></h2>
    {_table(_accounting_rows(acc))}</div>
  <div><h2>Errors by kind</h2>{_table((report.get("errors") or {}).items(), "no errors")}
    <h3>Log lines</h3>{_table(log_count.items(), "none counted")}</div>
  <div><h2>Arguments</h2>{_table((report.get("arguments") or {}).items(), "defaults")}</div>
</section>
<details><summary>Effective settings ({len(settings)})</summary>
  {_table((k, json.dumps(v, ensure_ascii=False)) for k, v in settings.items())}</details>"""


def _figures() -> str:
    return "\n".join(
        f'<figure id="chart-{name}"><figcaption>{_e(CHART_TITLES[name])}</figcaption>'
        f'<svg role="img" aria-label="{_e(CHART_TITLES[name])}" viewBox="0 0 {_WIDTH} {_HEIGHT}"></svg></figure>'
        for name in CHARTS)


_WIDTH, _HEIGHT = 640, 260

_STYLE = """
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; background: #f7f8fa; }
body { margin: 0 auto; max-width: 1400px; padding: 16px 24px; }
h1 { font-size: 1.4rem; margin: 0 0 4px; } h2 { font-size: 1.05rem; margin: 0 0 6px; }
h3 { font-size: .9rem; margin: 10px 0 4px; }
.badge { font-size: .8rem; padding: 2px 8px; border-radius: 10px; color: #fff; vertical-align: middle; }
.ok { background: #2e7d32; } .warn { background: #b26a00; } .err { background: #c62828; }
.muted { color: #6b7280; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; margin: 12px 0; }
.grid > div, figure, details { background: #fff; border: 1px solid #e2e5ea; border-radius: 8px; padding: 10px 12px; }
table { border-collapse: collapse; font-size: .85rem; width: 100%; }
th { text-align: left; font-weight: 600; padding: 2px 8px 2px 0; white-space: nowrap; vertical-align: top; }
td { padding: 2px 0; word-break: break-word; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; margin-top: 12px; }
figure { margin: 0; } figcaption { font-weight: 600; font-size: .9rem; margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-size: 11px; fill: #4b5563; } svg .axis { stroke: #9ca3af; stroke-width: 1; }
.legend { font-size: 11px; }
"""

# Draws the five charts from the embedded JSON as SVG; sets data-charts-rendered.
_SCRIPT = r"""
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const W = %(width)d, H = %(height)d, M = {left: 48, right: 36, top: 22, bottom: 34};
  const MAX_DAY_BARS = 120, MAX_ROWS = 24, CHAR_WIDTH = 6.5, LABEL_GAP = 12;
  const COLORS = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2", "#65a30d", "#db2777"];
  const BUCKET_COLORS = {failed: "#dc2626", dropped: "#d97706", duplicate: "#7c3aed", skipped: "#6b7280",
                         unfinished: "#0891b2"};
  const data = JSON.parse(document.getElementById("report-data").textContent);

  function el(parent, name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function nice(max) {
    if (max <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max))), f = max / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }
  function empty(svg, why) {
    el(svg, "text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, why);
    return 0;
  }
  function legend(svg, names, colorOf) {
    let x = M.left;
    names.forEach((name) => {
      el(svg, "rect", {x: x, y: 4, width: 10, height: 10, fill: colorOf(name)});
      el(svg, "text", {x: x + 14, y: 13, class: "legend"}, name);
      x += 24 + 7 * String(name).length;
    });
  }
  // Stacked vertical bars: categories along x, one stack per category.
  function stacked(svg, categories, series, colorOf, opts) {
    const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
    const totals = categories.map((c) => series.reduce((s, name) => s + (c.values[name] || 0), 0));
    const max = opts.max || nice(Math.max(...totals, 0));
    el(svg, "line", {x1: M.left, y1: M.top + ph, x2: M.left + pw, y2: M.top + ph, class: "axis"});
    el(svg, "line", {x1: M.left, y1: M.top, x2: M.left, y2: M.top + ph, class: "axis"});
    el(svg, "text", {x: M.left - 4, y: M.top + 4, "text-anchor": "end"}, opts.maxLabel || String(max));
    el(svg, "text", {x: M.left - 4, y: M.top + ph, "text-anchor": "end"}, "0");
    const step = pw / Math.max(categories.length, 1), bw = Math.max(step * 0.8, 1);
    let marks = 0;
    categories.forEach((c, i) => {
      let y = M.top + ph;
      series.forEach((name) => {
        const v = c.values[name] || 0;
        if (!v) return;
        const h = ph * v / max;
        y -= h;
        const r = el(svg, "rect", {x: M.left + i * step + (step - bw) / 2, y: y, width: bw, height: h,
                                   fill: colorOf(name)});
        el(r, "title", {}, c.label + " · " + name + ": " + (opts.format ? opts.format(v) : v));
        marks += 1;
      });
    });
    // every k-th label, k as small as lets them stand side by side without touching
    const longest = Math.max(...categories.map((c) => String(c.label).length), 1);
    const every = Math.max(1, Math.ceil((CHAR_WIDTH * longest + LABEL_GAP) / step));
    const labels = categories.map((_, i) => i).filter((i) => i %% every === 0);
    labels.forEach((i) => el(svg, "text", {x: M.left + i * step + step / 2, y: H - M.bottom + 14,
                                           "text-anchor": "middle"}, categories[i].label));
    legend(svg, series, colorOf);
    return marks;
  }
  // Horizontal bars with their labels, longest first.
  function hbars(svg, rows, colorOf, opts) {
    if (!rows.length) return empty(svg, opts.none);
    const shown = rows.slice(0, MAX_ROWS), left = 190, pw = W - left - 60;
    const rowH = Math.min(18, (H - M.top - 6) / shown.length);
    const max = opts.max || Math.max(...shown.map((r) => r.value), 1);
    shown.forEach((r, i) => {
      const y = M.top + i * rowH;
      el(svg, "text", {x: left - 6, y: y + rowH * 0.7, "text-anchor": "end"}, r.label);
      const bar = el(svg, "rect", {x: left, y: y + 2, width: Math.max(pw * r.value / max, 1), height: rowH - 4,
                                   fill: colorOf(r)});
      el(bar, "title", {}, r.label + ": " + (opts.format ? opts.format(r.value) : r.value));
      el(svg, "text", {x: left + pw * r.value / max + 4, y: y + rowH * 0.7},
         opts.format ? opts.format(r.value) : String(r.value));
    });
    if (opts.legend) legend(svg, opts.legend, (name) => BUCKET_COLORS[name]);
    return shown.length;
  }
  // Per-day data on a real time axis: days when the run spans a few months, else months, else years;
  // periods with no record are kept (empty), so gaps and steps show where they happened.
  function periods(published) {
    const days = Object.keys(published).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
    if (!days.length) return [];
    const first = Date.parse(days[0] + "T00:00:00Z"), last = Date.parse(days[days.length - 1] + "T00:00:00Z");
    const spanDays = (last - first) / 86400000;
    const width = spanDays <= MAX_DAY_BARS ? 10 : spanDays <= MAX_DAY_BARS * 30 ? 7 : 4;
    const out = new Map();
    if (width === 10) {
      for (let t = first; t <= last; t += 86400000) out.set(new Date(t).toISOString().slice(0, 10), {});
    } else {
      let y = Number(days[0].slice(0, 4)), m = Number(days[0].slice(5, 7));
      const key = () => (width === 7 ? y + "-" + String(m).padStart(2, "0") : String(y));
      while (key() <= days[days.length - 1].slice(0, width)) {
        out.set(key(), {});
        if (width === 7) { m += 1; if (m > 12) { m = 1; y += 1; } } else { y += 1; }
      }
    }
    days.forEach((day) => {
      const acc = out.get(day.slice(0, width));
      for (const [lang, byExtractor] of Object.entries(published[day])) {
        for (const [extractor, n] of Object.entries(byExtractor)) {
          acc[lang] = acc[lang] || {};
          acc[lang][extractor] = (acc[lang][extractor] || 0) + n;
        }
      }
    });
    return [...out.entries()].map(([label, byLang]) => ({label: label, byLang: byLang}));
  }
  const palette = (names) => (name) => COLORS[names.indexOf(name) %% COLORS.length];

  const charts = {
    published(svg) {
      const rows = periods(data.charts.published || {});
      if (!rows.length) return empty(svg, "no record with a published date in this run");
      const langs = [...new Set(rows.flatMap((r) => Object.keys(r.byLang)))].sort();
      const cats = rows.map((r) => ({label: r.label, values: Object.fromEntries(langs.map((l) =>
        [l, Object.values(r.byLang[l] || {}).reduce((a, b) => a + b, 0)]))}));
      return stacked(svg, cats, langs, palette(langs), {});
    },
    extractors(svg) {
      const rows = periods(data.charts.published || {});
      if (!rows.length) return empty(svg, "no record with a published date in this run");
      const names = [...new Set(rows.flatMap((r) => Object.values(r.byLang).flatMap(Object.keys)))].sort();
      const cats = rows.map((r) => {
        const counts = {};
        Object.values(r.byLang).forEach((byExtractor) => {
          for (const [name, n] of Object.entries(byExtractor)) counts[name] = (counts[name] || 0) + n;
        });
        const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
        return {label: r.label, values: Object.fromEntries(names.map((n) => [n, (counts[n] || 0) / total]))};
      });
      return stacked(svg, cats, names, palette(names),
                     {max: 1, maxLabel: "100%%", format: (v) => Math.round(v * 100) + "%%"});
    },
    reasons(svg) {
      const acc = data.accounting || {};
      let rows = [];
      ["failed", "dropped", "duplicate", "skipped", "unfinished"].forEach((bucket) => {
        for (const [why, n] of Object.entries(acc[bucket] || {})) rows.push({label: bucket + "/" + why,
                                                                             bucket: bucket, value: n});
      });
      if (!rows.length) {  // a run from before the accounting: the older counters
        [["dropped", data.dropped], ["duplicate", data.duplicates], ["skipped", data.skipped]].forEach(
          ([bucket, group]) => { for (const [why, n] of Object.entries(group || {})) rows.push(
            {label: bucket + "/" + why, bucket: bucket, value: n}); });
      }
      rows = rows.filter((r) => r.value > 0).sort((a, b) => b.value - a.value);
      const buckets = [...new Set(rows.map((r) => r.bucket))];
      return hbars(svg, rows, (r) => BUCKET_COLORS[r.bucket],
                   {none: acc.requested ? "every article page reached was emitted"
                                        : "no article page was reached", legend: buckets});
    },
    coverage(svg) {
      const cov = (data.charts.field_coverage || {});
      const n = cov.records || 0;
      if (!n) return empty(svg, "no record emitted in this run");
      const rows = Object.entries(cov.fields || {}).map(([f, c]) => ({label: f, value: c / n}))
        .sort((a, b) => b.value - a.value);
      return hbars(svg, rows, (r) => (r.value >= 0.999 ? "#059669" : r.value >= 0.5 ? "#d97706" : "#dc2626"),
                   {max: 1, format: (v) => Math.round(v * 100) + "%%", none: "no fields"});
    },
    latency(svg) {
      const rt = data.charts.response_times || {};
      if (!rt.count) return empty(svg, "no response in this run");
      const bounds = rt.upper_bounds_seconds, fmt = (s) => (s < 1 ? Math.round(s * 1000) + "ms" : s + "s");
      const cats = rt.counts.map((n, i) => ({label: bounds[i] === null ? ">" + fmt(bounds[i - 1])
                                                                         : "≤" + fmt(bounds[i]),
                                              values: {responses: n}}));
      return stacked(svg, cats, ["responses"], () => COLORS[0], {});
    },
  };

  let rendered = 0;
  for (const [name, draw] of Object.entries(charts)) {
    const svg = document.querySelector("#chart-" + name + " svg");
    svg.setAttribute("data-marks", String(draw(svg)));
    rendered += 1;
  }
  document.body.setAttribute("data-charts-rendered", String(rendered));
})();
"""


def render_html(report: Mapping[str, Any]) -> str:
    """The whole page for a run report (the dict :func:`arabtoday.run.report.build_report` returns)."""
    status = report.get("exit_status") or {}
    code = status.get("code")
    status_class = STATUS_CLASS.get(code, "err") if isinstance(code, int) else "warn"
    embedded = {key: report.get(key) or {} for key in EMBEDDED_KEYS}
    title = f"arabtoday run report, {report.get('finished_at') or report.get('started_at') or ''}".strip(", ")
    script = _SCRIPT % {"width": _WIDTH, "height": _HEIGHT}
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{_e(title)}</title>
<style>{_STYLE}</style>
</head>
<body data-charts-expected="{len(CHARTS)}">
<header>
  <h1>{_e(title)}</h1>
  <p><span class="badge {status_class}">exit {_e(code if code is not None else "?")}</span>
     {_e(status.get("reason", "no exit status in this report"))}</p>
</header>
{_summary(report)}
<section class="charts">
{_figures()}
</section>
<script type="application/json" id="report-data">{_script_json(embedded)}</script>
<script>{script}</script>
</body>
</html>
"""


def write_html(report: Mapping[str, Any], path: Path) -> None:
    """Render and write atomically (a reader never sees half a page; no temporary file is left behind)."""
    atomic_write_text(path, render_html(report))
