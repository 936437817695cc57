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
    """p50 and p95 per day as two polylines; days without checks leave gaps."""
    values = [v for p in points for v in (p.p50, p.p95) if v is not None]
    if not values:
        return f'<p class="muted">{escape(t("no_data"))}</p>'
    top = max(values) * 1.1 or 1
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)

    def line(attr: str, css: str) -> str:
        runs: list[list[str]] = [[]]
        for i, point in enumerate(points):
            value = getattr(point, attr)
            if value is None:
                runs.append([])
                continue
            x = PAD + i * step
            y = HEIGHT - PAD - (value / top) * (HEIGHT - 2 * PAD)
            runs[-1].append(f"{x:.1f},{y:.1f}")
        return "".join(
            f'<polyline class="{css}" fill="none" points="{" ".join(run)}"/>' for run in runs if len(run) > 1
        ) + "".join(
            f'<circle class="{css}" r="1.5" cx="{run[0].split(",")[0]}" cy="{run[0].split(",")[1]}"/>'
            for run in runs
            if len(run) == 1
        )

    last = next((p for p in reversed(points) if p.p50 is not None), None)
    label = escape(f"{t('response_time')}: p50 {last.p50} ms, p95 {last.p95} ms" if last else t("no_data"))
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'preserveAspectRatio="none">{line("p95", "p95")}{line("p50", "p50")}</svg>'
    )
