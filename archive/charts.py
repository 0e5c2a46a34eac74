"""Small server-side SVG charts: no script, nothing to load, escaped labels."""

from __future__ import annotations

from html import escape

SERIES = (("applications_received", "新收申请 received", "#b50d0d"), ("granted", "予以公开 granted", "#e0a030"),
          ("total_processed", "办理总计 processed", "#4a6fa5"))


def agency_chart(history: list[dict], width: int = 560, height: int = 220) -> str:
    """Grouped bars per year: requests received, granted, processed."""
    years = [h for h in history if any(isinstance(h.get(k), (int, float)) for k, _, _ in SERIES)]
    if not years:
        return ""
    top = max(max((h.get(k) or 0) for k, _, _ in SERIES) for h in years) or 1
    plot_h, base = height - 50, height - 30
    group = (width - 40) / len(years)
    bar = min(group / (len(SERIES) + 1), 28)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>申请办理情况 Applications by year</title>']
    for i, h in enumerate(years):
        x0 = 30 + i * group
        for j, (key, label, colour) in enumerate(SERIES):
            value = h.get(key) or 0
            bar_h = plot_h * value / top
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{base - bar_h:.1f}" width="{bar - 2:.1f}" '
                         f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)} {h["year"]}: {value}</title></rect>')
        parts.append(f'<text x="{x0 + bar * 1.5:.1f}" y="{height - 12}" font-size="12" text-anchor="middle">{h["year"]}</text>')
    for j, (_, label, colour) in enumerate(SERIES):
        parts.append(f'<rect x="{30 + j * 180}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{44 + j * 180}" y="13" font-size="11">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
