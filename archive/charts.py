"""Small server-side SVG charts: no script, nothing to load, escaped labels, axes and values."""

from __future__ import annotations

import math
from html import escape

SERIES = (("applications_received", "新收申请 received", "#b50d0d"), ("granted", "予以公开 granted", "#e0a030"),
          ("total_processed", "办理总计 processed", "#4a6fa5"))


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """Round tick values from 0 to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(int(math.ceil(step)), 1)
    return list(range(0, int(math.ceil(top / step)) * step + 1, step))


def with_missing_years(history: list[dict]) -> list[dict]:
    """Every year from the first to the last, a year with no report included (marked, never dropped)."""
    if not history:
        return []
    by_year = {h["year"]: h for h in history}
    years = range(min(by_year), max(by_year) + 1)
    return [by_year.get(year) or {"year": year, "no_report": True} for year in years]


def _has_figures(h: dict) -> bool:
    return any(isinstance(h.get(k), (int, float)) for k, _, _ in SERIES)


def _gap_mark(x: float, width: float, top: float, base: float, words: str, hint: str) -> str:
    """A hatched column where a year's figures are missing, saying why."""
    return (f'<g class="missing-year"><title>{escape(hint)}</title>'
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{base - top:.1f}" fill="url(#missing)" '
            f'stroke="#999" stroke-dasharray="4 3"/>'
            f'<text x="{x + width / 2:.1f}" y="{(top + base) / 2:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#555">{escape(words)}</text></g>')


def agency_chart(history: list[dict], width: int = 640, height: int = 260) -> str:
    """Grouped bars per year (received, granted, processed), a y axis with ticks, each bar's value on it.

    A year whose figures were not read, or that has no report, keeps its place as a hatched column
    saying so: a chart never closes a gap by leaving the year out."""
    years = with_missing_years(history)
    if not any(_has_figures(h) for h in years):
        return ""
    ticks = nice_ticks(max(max((h.get(k) or 0) for k, _, _ in SERIES) for h in years))
    top = ticks[-1]
    left, right, plot_top, base = 46, 8, 34, height - 40
    plot_h = base - plot_top
    group = (width - left - right) / len(years)
    bar = min(group / (len(SERIES) + 1), 34)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
             f'xmlns="http://www.w3.org/2000/svg"><title>申请办理情况（件）Applications by year</title>'
             '<defs><pattern id="missing" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#ccc" stroke-width="2"/>'
             '</pattern></defs>']
    for tick in ticks:  # y axis: gridlines and values
        y = base - plot_h * tick / top
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{plot_top}" y2="{base}" stroke="#333"/>'
                 f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#333"/>'
                 f'<text x="4" y="{plot_top - 8}" font-size="11">件 cases</text>')
    for i, h in enumerate(years):
        x0 = left + i * group + (group - bar * len(SERIES)) / 2
        if h.get("no_report"):
            parts.append(_gap_mark(x0, bar * len(SERIES), plot_top, base, "无年报", f"{h['year']} 年度：档案中没有这一年的年报"))
        elif not _has_figures(h):
            parts.append(_gap_mark(x0, bar * len(SERIES), plot_top, base, "未读出",
                                   f"{h['year']} 年度：有年报，但表三未读出，数字缺失（不是 0）"))
        for j, (key, name, colour) in enumerate(SERIES):
            value = h.get(key)
            if not isinstance(value, (int, float)):
                continue
            bar_h = plot_h * value / top
            x = x0 + j * bar
            parts.append(f'<rect x="{x:.1f}" y="{base - bar_h:.1f}" width="{bar - 2:.1f}" height="{bar_h:.1f}" '
                         f'fill="{colour}"><title>{escape(name)} {h["year"]}: {value}</title></rect>'
                         f'<text class="value" x="{x + (bar - 2) / 2:.1f}" y="{base - bar_h - 3:.1f}" font-size="10" '
                         f'text-anchor="middle">{value}</text>')
        label = f"{h['year']}" + (f" 缺{h['unread']}份" if h.get("unread") and _has_figures(h) else "")
        parts.append(f'<text class="year" x="{left + (i + 0.5) * group:.1f}" y="{base + 16}" font-size="12" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="{(left + width) / 2:.0f}" y="{height - 6}" font-size="11" text-anchor="middle">报告年度 year</text>')
    for j, (_, name, colour) in enumerate(SERIES):
        parts.append(f'<rect x="{left + j * 150}" y="6" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + 14 + j * 150}" y="15" font-size="11">{escape(name)}</text>')
    parts.append(f'<rect x="{left + 450}" y="6" width="10" height="10" fill="url(#missing)" stroke="#999"/>'
                 f'<text x="{left + 464}" y="15" font-size="11">缺失 missing</text>')
    parts.append("</svg>")
    return "".join(parts)
