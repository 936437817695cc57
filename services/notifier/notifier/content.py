"""What an alert says, independent of where it goes: a title, labelled facts, the error, and a link.

Every provider renders this one ``Message`` in its own shape (Slack blocks, a Discord embed, an email), so
the facts and their wording are the same on every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from openstatus_common.messages import MonitorAlert, MonitorRef

Tone = Literal["error", "degraded", "recovered", "test"]

TEST_TEXT = "This is a test notification from openstatus. If you can read it, the channel works."


@dataclass(frozen=True)
class Notice:
    """One thing to send to one channel: the alert, the key that identifies it, and whether it is a test."""

    alert: MonitorAlert
    key: str  # "<event_id>:<channel_id>": the same on every retry, so receivers can drop duplicates
    details_url: str | None = None
    test: bool = False


@dataclass(frozen=True)
class Message:
    title: str
    tone: Tone
    facts: tuple[tuple[str, str], ...]
    link: str | None
    alert: MonitorAlert

    @property
    def summary(self) -> str:
        """The title with the error, for providers that show one line (PagerDuty, SMS previews)."""
        error = dict(self.facts).get("Error")
        return f"{self.title}: {error}" if error else self.title

    def text(self) -> str:
        """Plain text: the facts one per line, then the link."""
        lines = [f"{label}: {value}" for label, value in self.facts]
        if self.link:
            lines.append(f"Details: {self.link}")
        return "\n".join(lines)


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def checked_at(alert: MonitorAlert) -> datetime:
    return datetime.fromtimestamp(alert.cronTimestamp / 1000, tz=UTC)


def render(notice: Notice) -> Message:
    """The message for ``notice``: what is wrong (or fine again), where, since when, and a link."""
    alert = notice.alert
    if notice.test:
        return Message(
            title="Test notification from openstatus",
            tone="test",
            facts=(("Message", TEST_TEXT), ("Sent", when(checked_at(alert)))),
            link=None,
            alert=alert,
        )
    name = alert.monitor.name
    title = {
        "error": f"{name} is down",
        "degraded": f"{name} is degraded",
        "recovered": f"{name} has recovered",
    }[alert.status]
    facts: list[tuple[str, str]] = [
        ("Monitor", f"{name} ({alert.monitor.url})"),
        ("Status", {"error": "down (error)", "degraded": "degraded", "recovered": "recovered"}[alert.status]),
    ]
    if alert.regions:
        label = "Regions" if alert.status != "recovered" else "Regions checked"
        facts.append((label, ", ".join(alert.regions)))
    if alert.status != "recovered":
        errors = [alert.errorMessage] if alert.errorMessage else []
        errors += [f"{region}: {error}" for region, error in sorted(alert.regionErrors.items())]
        if errors:
            facts.append(("Error", "; ".join(dict.fromkeys(errors))))
        facts.append(("Started", when(alert.startedAt or checked_at(alert))))
    else:
        if alert.startedAt:
            facts.append(("Down since", when(alert.startedAt)))
            seconds = (checked_at(alert) - alert.startedAt).total_seconds()
            facts.append(("Duration", duration(seconds)))
        facts.append(("Recovered", when(checked_at(alert))))
    if alert.statusCode is not None:
        facts.append(("Status code", str(alert.statusCode)))
    if alert.latency is not None:
        facts.append(("Latency", f"{alert.latency} ms"))
    return Message(title=title, tone=alert.status, facts=tuple(facts), link=notice.details_url, alert=alert)


def sample_alert(now: datetime) -> MonitorAlert:
    """The alert a test sends: the seed's own example recovery payload, stamped now."""
    return MonitorAlert(
        monitor=MonitorRef(id=1, name="test", url="http://openstat.us"),
        cronTimestamp=int(now.timestamp() * 1000),
        status="recovered",
        statusCode=200,
        latency=1337,
    )
