"""Small, accessible inline SVG charts for the console's dashboards (no chart library).

Every chart is `<svg role="img" aria-labelledby="ID-title ID-desc">` with a `<title>` and a
`<desc>`: a screen reader announces what the chart is and what it shows, and the caller puts the
same numbers in a data table next to it (the table, not the picture, is the source of truth). The
functions are pure: numbers in, markup out, everything text escaped. Scales start at zero and
survive empty input, one point and all-equal values (a flat series must not divide by zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 640, 280
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 16, 44
# Colour-blind-safe palette (Okabe–Ito); series are also told apart by dashes and the legend.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "")
# The forecast band: an opaque-enough fill, and edges (the P10 and P90 lines) dark enough for
# WCAG 1.4.11's 3:1 against the white plot (4.7:1); the P50 line is 6:1 against the band's fill.
BAND = "#E69F00"
BAND_OPACITY = 0.55
BAND_EDGE = "#9A6A00"
P50 = "#7A2E00"
SCOPE_OFF_SCALE = 1.5  # scope above this multiple of the fan's top is stated, not drawn

Value = float | None


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Value]
    step: bool = False  # a step line (burndown remaining, scope): values hold until the next day


@dataclass(frozen=True)
class Fan:
    """A cumulative forecast: P10/P50/P90 per future sprint (1..horizon sprints ahead)."""

    p10: Sequence[float]
    p50: Sequence[float]
    p90: Sequence[float]
    scope: float | None = None


def fmt(value: Value, digits: int = 1) -> str:
    """A number as people read it: no trailing zeros, a thousands separator, '–' for no data."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    rounded = round(float(value), digits)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.{digits}f}".rstrip("0").rstrip(".")


def nice_max(values: Sequence[Value]) -> float:
    """A round upper bound ≥ every value (and > 0, so an all-zero or empty series still scales)."""
    top = max((float(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= top:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def _ticks(top: float, n: int = 4) -> list[float]:
    return [top * i / n for i in range(n + 1)]


@dataclass(frozen=True)
class _Frame:
    """The plot area of one panel and its y scale (x is by index: categories or days)."""

    left: float
    top: float
    width: float
    height: float
    y_max: float
    count: int

    def x(self, i: float) -> float:
        """Centre of category i of `count` (one point sits in the middle)."""
        slot = self.width / max(self.count, 1)
        return self.left + slot * (i + 0.5)

    def y(self, v: float) -> float:
        return self.top + self.height * (1 - max(0.0, v) / self.y_max)

    @property
    def slot(self) -> float:
        return self.width / max(self.count, 1)

    @property
    def bottom(self) -> float:
        return self.top + self.height


def _n(x: float) -> str:
    return f"{x:.1f}"


def _open(chart_id: str, title: str, desc: str, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    ident = chart_id.replace(" ", "-")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" class="chart" aria-labelledby="{escape(ident)}-title {escape(ident)}-desc">',
        f'<title id="{escape(ident)}-title">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-desc">{escape(desc)}</desc>',
    ]


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'font-family="sans-serif" fill="#333">{escape(text)}</text>'
    )


def _axes(f: _Frame, labels: Sequence[str], y_label: str) -> list[str]:
    out = ['<g class="axes" aria-hidden="true">']
    for t in _ticks(f.y_max):
        y = f.y(t)
        out.append(
            f'<line x1="{_n(f.left)}" y1="{_n(y)}" x2="{_n(f.left + f.width)}" y2="{_n(y)}" stroke="#ddd"/>'
        )
        out.append(_text(f.left - 4, y + 4, fmt(t), anchor="end", size=10))
    out.append(
        f'<line x1="{_n(f.left)}" y1="{_n(f.bottom)}" x2="{_n(f.left + f.width)}" y2="{_n(f.bottom)}" '
        'stroke="#666"/>'
    )
    # Thin the x labels so they never overlap (about 7 px per character at 10 px).
    longest = max((len(lbl) for lbl in labels), default=1)
    every = max(1, math.ceil(longest * 6.5 / max(f.slot, 1)))
    shown = [i for i in range(len(labels)) if i % every == 0]
    if labels and shown[-1] != len(labels) - 1 and len(labels) - 1 - shown[-1] >= every:
        shown.append(len(labels) - 1)  # the latest one too, when it has room
    for i in shown:
        out.append(_text(f.x(i), f.bottom + 14, labels[i], size=10))
    # The axis title sits left of this frame's own tick labels (two frames share one SVG).
    x, mid = max(10.0, f.left - 34), f.top + f.height / 2
    out.append(
        f'<text x="{_n(x)}" y="{_n(mid)}" font-size="10" font-family="sans-serif" fill="#333" '
        f'transform="rotate(-90 {_n(x)} {_n(mid)})" text-anchor="middle">{escape(y_label)}</text>'
    )
    out.append("</g>")
    return out


def _legend(items: Sequence[tuple[str, str, str]], x: float, y: float) -> list[str]:
    """(name, colour, dash) swatches in a row under the plot."""
    out = ['<g class="legend">']
    for name, colour, dash in items:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + 18)}" y2="{_n(y)}" stroke="{colour}" '
            f'stroke-width="3"{dash_attr}/>'
        )
        out.append(_text(x + 22, y + 4, name, anchor="start", size=10))
        x += 30 + 6.5 * len(name)
    out.append("</g>")
    return out


def _path(f: _Frame, values: Sequence[Value], step: bool) -> str:
    """One polyline per run of known values (a None breaks the line rather than faking a zero)."""
    parts: list[str] = []
    pen_down = False
    last_y = 0.0
    for i, v in enumerate(values):
        if v is None:
            pen_down = False
            continue
        x, y = f.x(i), f.y(float(v))
        if not pen_down:
            parts.append(f"M{_n(x)} {_n(y)}")
        elif step:
            parts.append(f"L{_n(x)} {_n(last_y)} L{_n(x)} {_n(y)}")
        else:
            parts.append(f"L{_n(x)} {_n(y)}")
        pen_down, last_y = True, y
    return " ".join(parts)


def _frame(count: int, values: Sequence[Value], width: int = WIDTH, left: float = PAD_L) -> _Frame:
    return _Frame(
        left=left,
        top=PAD_T,
        width=width - left - PAD_R,
        height=HEIGHT - PAD_T - PAD_B - 14,
        y_max=nice_max(values),
        count=count,
    )


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str = "points",
    y_max: float | None = None,
) -> str:
    """Lines (or steps) over shared x labels: the burndown with its scope line, the health trend."""
    every = [v for s in series for v in s.values]
    f = _frame(len(labels), [*every, y_max])
    out = _open(chart_id, title, desc)
    out += _axes(f, labels, y_label)
    legend = []
    for k, s in enumerate(series):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        legend.append((s.name, colour, dash))
        d = _path(f, s.values, s.step)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<g class="series" data-series={quoteattr(s.name)}>')
        if d:
            out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        for i, v in enumerate(s.values):
            if v is not None and len(s.values) <= 40:
                out.append(
                    f'<circle cx="{_n(f.x(i))}" cy="{_n(f.y(float(v)))}" r="2.5" fill="{colour}">'
                    f"<title>{escape(f'{s.name}, {labels[i] if i < len(labels) else i}: {fmt(v)}')}</title>"
                    "</circle>"
                )
        out.append("</g>")
    out += _legend(legend, f.left, HEIGHT - 8)
    out.append("</svg>")
    return "\n".join(out)


def _bars(f: _Frame, labels: Sequence[str], groups: Sequence[Series]) -> list[str]:
    out: list[str] = []
    n = max(len(groups), 1)
    inner = f.slot * 0.8 / n
    for k, s in enumerate(groups):
        colour = PALETTE[k % len(PALETTE)]
        out.append(f'<g class="series" data-series={quoteattr(s.name)} fill="{colour}">')
        for i, v in enumerate(s.values):
            if v is None:
                continue
            x = f.left + f.slot * i + f.slot * 0.1 + inner * k
            y = f.y(float(v))
            label = labels[i] if i < len(labels) else str(i)
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(inner - 1, 1))}" '
                f'height="{_n(max(f.bottom - y, 0.0))}"><title>{escape(f"{s.name}, {label}: {fmt(v)}")}'
                "</title></rect>"
            )
        out.append("</g>")
    return out


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    groups: Sequence[Series],
    *,
    y_label: str = "points",
) -> str:
    """Bars per label; several series side by side (capacity vs load per person)."""
    f = _frame(len(labels), [v for s in groups for v in s.values])
    out = _open(chart_id, title, desc)
    out += _axes(f, labels, y_label)
    out += _bars(f, labels, groups)
    out += _legend(
        [(s.name, PALETTE[k % len(PALETTE)], "") for k, s in enumerate(groups)], f.left, HEIGHT - 8
    )
    out.append("</svg>")
    return "\n".join(out)


def velocity_fan_chart(
    chart_id: str,
    title: str,
    desc: str,
    sprint_names: Sequence[str],
    velocity: Sequence[Value],
    fan: Fan,
) -> str:
    """Two panels: past velocity per named sprint (bars), and the cumulative forecast fan for the
    next sprints (P10–P90 band, P50 line, the scope as a dashed line). Separate y scales: a
    cumulative total would flatten the per-sprint bars on a shared axis."""
    split = int(WIDTH * 0.4)
    past = _frame(len(sprint_names), velocity, width=split)
    # A scope far above the forecast would squash the fan into a sliver at the bottom: the scale
    # then fits the fan, and the scope is stated at the top of the panel instead of drawn.
    fan_top = max([*fan.p90, *fan.p50], default=0.0)
    scope_off_scale = fan.scope is not None and fan_top > 0 and fan.scope > SCOPE_OFF_SCALE * fan_top
    horizon = len(fan.p50)
    ahead = [f"+{i + 1}" for i in range(horizon)]
    right = _Frame(
        left=split + PAD_L,
        top=PAD_T,
        width=WIDTH - split - PAD_L - PAD_R,
        height=past.height,
        y_max=nice_max([*fan.p90, *fan.p50, None if scope_off_scale else fan.scope]),
        count=horizon,
    )
    out = _open(chart_id, title, desc)
    out += _axes(past, sprint_names, "points completed")
    out += _bars(past, sprint_names, [Series("completed", velocity)])
    out += _axes(right, ahead, "cumulative points")
    out.append('<g class="fan">')
    if horizon:
        upper = [f"{_n(right.x(i))} {_n(right.y(v))}" for i, v in enumerate(fan.p90)]
        lower = [f"{_n(right.x(i))} {_n(right.y(v))}" for i, v in reversed(list(enumerate(fan.p10)))]
        out.append(
            f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{BAND}" '
            f'fill-opacity="{BAND_OPACITY}" stroke="{BAND_EDGE}" stroke-width="1.5" '
            'stroke-linejoin="round"><title>P10–P90</title></polygon>'
        )
        out.append(
            f'<path class="p50" d="{_path(right, fan.p50, False)}" fill="none" stroke="{P50}" '
            'stroke-width="2.5"><title>P50</title></path>'
        )
    if fan.scope is not None and scope_off_scale:
        out.append(
            f'<text class="scope" x="{_n(right.left + right.width)}" y="{_n(right.top + 10)}" '
            'text-anchor="end" font-size="10" font-family="sans-serif" fill="#333">'
            f"scope {escape(fmt(fan.scope))} points: above this scale ↑</text>"
        )
    elif fan.scope is not None and fan.scope > 0:
        y = right.y(fan.scope)
        out.append(
            f'<line class="scope" x1="{_n(right.left)}" y1="{_n(y)}" x2="{_n(right.left + right.width)}" '
            f'y2="{_n(y)}" stroke="#555" stroke-dasharray="6 3"><title>scope {escape(fmt(fan.scope))} '
            "points</title></line>"
        )
    out.append("</g>")
    legend = _legend(
        [
            ("completed", PALETTE[0], ""),
            ("P10–P90", BAND_EDGE, ""),
            ("P50", P50, ""),
            *([] if scope_off_scale or not fan.scope else [("scope", "#555", "6 3")]),
        ],
        past.left,
        HEIGHT - 8,
    )
    # The band's swatch is a filled box like the band itself, not a line.
    swatch = next(i for i, line in enumerate(legend) if f'stroke="{BAND_EDGE}"' in line)
    x = float(legend[swatch].split('x1="')[1].split('"')[0])
    legend[swatch] = (
        f'<rect x="{_n(x)}" y="{_n(HEIGHT - 14)}" width="18" height="12" fill="{BAND}" '
        f'fill-opacity="{BAND_OPACITY}" stroke="{BAND_EDGE}" stroke-width="1.5"/>'
    )
    out += legend
    out.append("</svg>")
    return "\n".join(out)
