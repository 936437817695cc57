"""How a status is said and coloured, in one place: the page, its badges, its feeds and its Statuspage-style
summary all read from here.

Two status vocabularies exist (``openstatus_common.pages.status``): a component's (success, degraded, error,
info) and the page's overall one (operational, degraded, partial/major outage, maintenance, unknown). Each
gets a short English label (badges, alt texts), the translation key of its long label, and a colour for the
light and the dark theme. The tracker's ``empty`` day (no data) has a colour too. Then the mappings onto the
Atlassian Statuspage vocabulary used by ``/api/v2/summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openstatus_common.pages.status import ComponentStatus, OverallStatus

Theme = Literal["light", "dark"]
THEMES: tuple[Theme, ...] = ("light", "dark")


@dataclass(frozen=True, slots=True)
class Colour:
    light: str
    dark: str

    def for_theme(self, theme: Theme) -> str:
        return self.dark if theme == "dark" else self.light


# Tailwind 500 shades on light backgrounds, 400 shades on dark ones.
GREEN = Colour("#22c55e", "#4ade80")
YELLOW = Colour("#eab308", "#facc15")
ORANGE = Colour("#f97316", "#fb923c")
RED = Colour("#ef4444", "#f87171")
BLUE = Colour("#3b82f6", "#60a5fa")
GREY = Colour("#a3a3a3", "#737373")


@dataclass(frozen=True, slots=True)
class StatusStyle:
    # Short English label (badges, alt texts); the translated badge label is ``badge.<status>`` when the
    # translations have it.
    label: str
    # Translation key of the label the page shows.
    message_key: str
    colour: Colour


COMPONENT: dict[ComponentStatus, StatusStyle] = {
    ComponentStatus.SUCCESS: StatusStyle("Operational", "component.success", GREEN),
    ComponentStatus.DEGRADED: StatusStyle("Degraded", "component.degraded", YELLOW),
    ComponentStatus.ERROR: StatusStyle("Downtime", "component.error", RED),
    ComponentStatus.INFO: StatusStyle("Maintenance", "component.info", BLUE),
}
# A tracker day without data.
EMPTY = StatusStyle("No data", "component.empty", GREY)

OVERALL: dict[OverallStatus, StatusStyle] = {
    OverallStatus.OPERATIONAL: StatusStyle("Operational", "status.operational", GREEN),
    OverallStatus.DEGRADED: StatusStyle("Degraded", "status.degraded", YELLOW),
    OverallStatus.PARTIAL_OUTAGE: StatusStyle("Partial Outage", "status.partial_outage", ORANGE),
    OverallStatus.MAJOR_OUTAGE: StatusStyle("Major Outage", "status.major_outage", RED),
    OverallStatus.MAINTENANCE: StatusStyle("Maintenance", "status.maintenance", BLUE),
    OverallStatus.UNKNOWN: StatusStyle("Unknown", "status.unknown", GREY),
}


def component_style(status: str) -> StatusStyle:
    """A component's or a tracker bar's status (``success``/``degraded``/``error``/``info``/``empty``)."""
    if status in ComponentStatus._value2member_map_:
        return COMPONENT[ComponentStatus(status)]
    return EMPTY


def overall_style(status: str) -> StatusStyle:
    if status in OverallStatus._value2member_map_:
        return OVERALL[OverallStatus(status)]
    return OVERALL[OverallStatus.UNKNOWN]


@dataclass(frozen=True, slots=True)
class Surface:
    """A badge's (or any small widget's) own colours in one theme."""

    background: str
    text: str
    border: str


SURFACES: dict[Theme, Surface] = {
    "light": Surface(background="#f5f5f5", text="#171717", border="#d4d4d4"),
    "dark": Surface(background="#171717", text="#fafafa", border="#525252"),
}


# --- Atlassian Statuspage (``/api/v2/summary.json``) ---------------------------------------------------

# A component in error is down as far as the page can tell: major_outage (the page's own rule calls the
# page a partial outage when only some components are down; Statuspage says the same with its indicator).
STATUSPAGE_COMPONENT: dict[ComponentStatus, str] = {
    ComponentStatus.SUCCESS: "operational",
    ComponentStatus.DEGRADED: "degraded_performance",
    ComponentStatus.ERROR: "major_outage",
    ComponentStatus.INFO: "under_maintenance",
}

# Statuspage has no "unknown": a page we cannot vouch for is not reported as "none" (all good).
STATUSPAGE_INDICATOR: dict[OverallStatus, str] = {
    OverallStatus.OPERATIONAL: "none",
    OverallStatus.DEGRADED: "minor",
    OverallStatus.PARTIAL_OUTAGE: "major",
    OverallStatus.MAJOR_OUTAGE: "critical",
    OverallStatus.MAINTENANCE: "maintenance",
    OverallStatus.UNKNOWN: "minor",
}

# An incident's impact, from the worst status among the components it affects (at least "minor": an open
# report always means something is wrong).
STATUSPAGE_IMPACT: dict[ComponentStatus, str] = {
    ComponentStatus.SUCCESS: "minor",
    ComponentStatus.INFO: "minor",
    ComponentStatus.DEGRADED: "minor",
    ComponentStatus.ERROR: "major",
}
