"""Charts as inline SVG, drawn on the server: no chart library, nothing fetched, readable on a slow link."""
from markupsafe import Markup, escape

PALETTE = ("#1f6f8b", "#e07a5f", "#81b29a", "#f2cc8f", "#6d597a", "#3d405b", "#b56576")


def bars(rows: list[tuple[str, int]], width: int = 560, rtl: bool = False,
         shown: list[str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value); shown: what to write beside each bar instead of the value
    (a poll's "12 · 40%")."""
    if not rows:
        return Markup("")
    top = max(v for _, v in rows) or 1
    row_h, label_w = 26, 190
    height = row_h * len(rows) + 6
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        text = escape(shown[i]) if shown else value
        y = i * row_h + 4
        w = int((width - label_w - (90 if shown else 50)) * value / top)
        if rtl:
            # right to left, a text's start is its right edge: label and value both grow leftwards from x
            parts.append(f'<text x="{width - 4}" y="{y + 16}" text-anchor="start" direction="rtl">{escape(label)}</text>'
                         f'<rect x="{width - label_w - w}" y="{y}" width="{w}" height="{row_h - 8}" fill="{PALETTE[0]}"/>'
                         f'<text x="{width - label_w - w - 6}" y="{y + 16}" text-anchor="start" direction="rtl">{text}</text>')
        else:
            parts.append(f'<text x="0" y="{y + 16}">{escape(label)}</text>'
                         f'<rect x="{label_w}" y="{y}" width="{w}" height="{row_h - 8}" fill="{PALETTE[0]}"/>'
                         f'<text x="{label_w + w + 6}" y="{y + 16}">{text}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_columns(weeks: list[str], series: dict[str, list[int]], labels: dict[str, str],
                    width: int = 560, height: int = 220) -> Markup:
    """One column per week, stacked by series (feedback kinds), with a legend."""
    if not weeks:
        return Markup("")
    totals = [sum(values[i] for values in series.values()) for i in range(len(weeks))]
    top = max(totals) or 1
    chart_h = height - 60
    col_w = (width - 20) / len(weeks)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, week in enumerate(weeks):
        x = 10 + i * col_w
        y: float = chart_h
        for n, (name, values) in enumerate(series.items()):
            h = chart_h * values[i] / top
            y -= h
            if h:
                parts.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{col_w - 4:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(labels.get(name, name))}: '
                             f'{values[i]}</title></rect>')
        parts.append(f'<text x="{x + col_w / 2:.1f}" y="{chart_h + 14}" text-anchor="middle" '
                     f'font-size="10">{escape(week)}</text>')
    for n, name in enumerate(series):
        lx = 10 + (n % 3) * 180
        ly = chart_h + 30 + (n // 3) * 14
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[n % len(PALETTE)]}"/>'
                     f'<text x="{lx + 14}" y="{ly}" font-size="11">{escape(labels.get(name, name))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
