"""Response-time charts as inline SVG: no script, readable without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from openstatus_common.pages.snapshot import LatencyPoint
from status_page.i18n import Translator

WIDTH = 600
HEIGHT = 120
PAD = 4


def latency_chart(points: Sequence[LatencyPoint], t: Translator) -> str:
    """p50 and p95 per day as two lines (days without checks leave gaps), with the scale, the first and last
    day, and the latest day's values written out beside it, so the chart reads without hovering."""
    values = [v for p in points for v in (p.p50, p.p95) if v is not None]
    if not values:
        return f'<p class="muted">{escape(t("no_data"))}</p>'
    top = max(values) * 1.1 or 1
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)

    def line(attr: str, css: str) -> str:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, point in enumerate(points):
            value = getattr(point, attr)
            if value is None:
                runs.append([])
                continue
            runs[-1].append((PAD + i * step, HEIGHT - PAD - (value / top) * (HEIGHT - 2 * PAD)))
        out = []
        for run in runs:
            if len(run) > 1:
                joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                out.append(f'<polyline class="{css}" fill="none" points="{joined}"/>')
            elif run:  # a lone day: a round dot that the stretched view box does not squash
                x, y = run[0]
                out.append(f'<path class="{css} dot" d="M{x:.1f} {y:.1f}h0"/>')
        return "".join(out)

    last = next((p for p in reversed(points) if p.p50 is not None), None)
    label = escape(f"{t('response_time')}: p50 {last.p50} ms, p95 {last.p95} ms" if last else t("no_data"))
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'preserveAspectRatio="none">{line("p95", "p95")}{line("p50", "p50")}</svg>'
    )
    legend = ""
    if last is not None:
        legend = (
            '<figcaption class="chart-legend">'
            f"<span>{escape(t.date(last.day))}</span>"
            f'<span><i class="key p50"></i>p50 {_ms(last.p50, t)}</span>'
            f'<span><i class="key p95"></i>p95 {_ms(last.p95, t)}</span></figcaption>'
        )
    return (
        '<figure class="chart-box">'
        f'<div class="chart-plot"><div class="chart-scale" aria-hidden="true"><span>{_ms(round(top), t)}</span>'
        f"<span>0 ms</span></div>{svg}</div>"
        f'<div class="chart-axis" aria-hidden="true"><span>{escape(t.date(points[0].day))}</span>'
        f"<span>{escape(t.date(points[-1].day))}</span></div>{legend}</figure>"
    )


def _ms(value: int | None, t: Translator) -> str:
    return "\u2013" if value is None else f"{escape(t.number(value))} ms"
