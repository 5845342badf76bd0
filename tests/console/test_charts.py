"""The console's inline SVG charts: valid XML, accessible names, sane scales for any input size."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from service.console.charts import Fan, Series, bar_chart, fmt, line_chart, nice_max, velocity_fan_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = (root.get("aria-labelledby") or "").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id and title.text
    assert desc is not None and desc.get("id") == desc_id and desc.text
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def coords(root: ET.Element) -> list[float]:
    """Every number in the geometry: none may be NaN/inf or far outside the view box."""
    found: list[float] = []
    for el in root.iter():
        for attr in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height", "d", "points"):
            found += [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?|nan|inf", el.get(attr, ""))]
    return found


def sane(root: ET.Element) -> None:
    for n in coords(root):
        assert -1 <= n <= 700, n


@pytest.mark.parametrize("values", [[], [0.0], [5.0], [3.0, 3.0, 3.0], [0.0, 0.0], [1.0, None, 7.5, 2.0]])
def test_line_chart_is_valid_for_any_number_of_points(values: list[float | None]) -> None:
    labels = [f"d{i}" for i in range(len(values))]
    svg = line_chart("c1", "Burndown <Sprint 23>", "remaining & scope", labels, [Series("remaining", values)])
    root = parse(svg)
    sane(root)
    assert root.find(f"{SVG}title").text == "Burndown <Sprint 23>"  # type: ignore[union-attr]
    assert "remaining" in texts(root)  # the legend names the series


def test_line_chart_steps_and_breaks_on_missing_values() -> None:
    svg = line_chart(
        "c2",
        "t",
        "d",
        ["Mon", "Tue", "Wed"],
        [Series("scope", [10, 12, 12], step=True), Series("ideal", [10, None, 0])],
    )
    root = parse(svg)
    paths = [p.get("d", "") for p in root.iter(f"{SVG}path")]
    assert any(p.count("M") == 1 and "L" in p for p in paths)  # the step line is one path
    assert any(p.count("M") == 2 for p in paths)  # the None breaks the ideal line
    assert {"Mon", "Tue", "Wed"} <= set(texts(root))
    # y ticks are round numbers from 0 to a nice maximum above 12.
    assert {"0", "15"} <= set(texts(root))


@pytest.mark.parametrize("values", [[], [0.0], [4.0, 4.0], [1.0, 2.0, 30.0]])
def test_bar_chart_grouped(values: list[float]) -> None:
    labels = [f"person {i}" for i in range(len(values))]
    svg = bar_chart(
        "cap", "Capacity vs load", "per person", labels, [Series("capacity", values), Series("load", values)]
    )
    root = parse(svg)
    sane(root)
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 2 * len(values)
    for rect in rects:
        assert float(rect.get("height", "-1")) >= 0
    if values:
        tallest = max(float(r.get("height", 0)) for r in rects)
        assert tallest > 0 or max(values) == 0


def test_velocity_fan_chart_has_band_p50_and_scope() -> None:
    fan = Fan(p10=[30, 62], p50=[35, 71], p90=[38, 75], scope=100)
    svg = velocity_fan_chart(
        "vel", "Velocity and the next 2 sprints", "desc", ["Sprint 22", "Sprint 23"], [36, 37], fan
    )
    root = parse(svg)
    sane(root)
    assert root.find(f".//{SVG}polygon[@class='band']") is not None
    assert root.find(f".//{SVG}path[@class='p50']") is not None
    assert root.find(f".//{SVG}line[@class='scope']") is not None
    assert {"Sprint 22", "Sprint 23", "+1", "+2", "P50", "P10–P90", "scope"} <= set(texts(root))


def test_velocity_fan_chart_without_history_or_fan() -> None:
    root = parse(velocity_fan_chart("v0", "t", "d", [], [], Fan(p10=[], p50=[], p90=[])))
    sane(root)


def test_numbers_are_formatted() -> None:
    assert fmt(None) == "–"
    assert fmt(3.0) == "3"
    assert fmt(3.25) == "3.2" or fmt(3.25) == "3.3"
    assert fmt(1234.5) == "1,234.5"
    assert fmt(float("nan")) == "–"
    assert nice_max([]) == 1.0
    assert nice_max([0, 0]) == 1.0
    assert nice_max([37]) == 50
    assert nice_max([209.7]) == 250
    assert nice_max([None, 1.0]) == 1.0


def test_text_is_escaped_not_injected() -> None:
    svg = line_chart("x", "<script>alert(1)</script>", "a & b", ["<b>"], [Series('"q"', [1.0])])
    root = parse(svg)
    assert "<script>" not in svg
    assert root.find(f"{SVG}title").text == "<script>alert(1)</script>"  # type: ignore[union-attr]


def _luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _over_white(colour: str, opacity: float) -> str:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c * opacity + 255 * (1 - opacity)):02x}" for c in rgb)


def test_the_forecast_band_is_clearly_visible() -> None:
    """WCAG 1.4.11 (non-text contrast): the band's edges stand out 3:1 from the white plot, its
    fill is clearly tinted, and the P50 line stays 3:1 against the band it runs through."""
    fan = Fan(p10=[30, 62, 90], p50=[35, 71, 104], p90=[38, 75, 118], scope=100)
    root = parse(velocity_fan_chart("vel", "t", "d", ["Sprint 23"], [37], fan))
    band = root.find(f".//{SVG}polygon[@class='band']")
    p50 = root.find(f".//{SVG}path[@class='p50']")
    assert band is not None and p50 is not None
    fill = _over_white(band.get("fill", ""), float(band.get("fill-opacity", "1")))
    assert _contrast(band.get("stroke", "#ffffff"), "#ffffff") >= 3.0
    assert float(band.get("stroke-width", "1")) >= 1.5
    assert float(band.get("fill-opacity", "1")) >= 0.5 and _contrast(fill, "#ffffff") >= 1.4
    assert _contrast(p50.get("stroke", "#ffffff"), fill) >= 3.0
    legend = root.find(f".//{SVG}g[@class='legend']")
    assert legend is not None and legend.find(f"{SVG}rect[@fill='{band.get('fill')}']") is not None


def test_a_scope_far_above_the_fan_does_not_squash_it() -> None:
    """The seed's fan (P10–P90 a few points apart, 214 at most) under a 689-point scope was a
    1–2 px sliver on a 0–1,000 scale; the scale fits the fan and the scope is stated."""
    fan = Fan(p10=[34.1, 137.7, 205.5], p50=[35.8, 141.2, 209.7], p90=[37.6, 144.7, 213.9], scope=689)
    root = parse(velocity_fan_chart("vel", "t", "d", ["Sprint 23"], [37], fan))
    band = root.find(f".//{SVG}polygon[@class='band']")
    assert band is not None
    ys = [float(v) for v in (band.get("points") or "").split()[1::2]]  # "x y x y …": P90 out, P10 back
    n = len(ys) // 2
    widest = max(ys[n + (n - 1 - i)] - ys[i] for i in range(n))  # P10 edge below the P90 edge
    assert widest >= 5, widest
    assert root.find(f".//{SVG}line[@class='scope']") is None
    assert any("scope 689 points" in t for t in texts(root))
