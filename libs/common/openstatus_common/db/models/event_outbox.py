"""``event_outbox``: events decided in a transaction and not yet confirmed published.

The writer adds the row in the transaction that makes the decision; after the commit it publishes the event
(``msg_id`` = ``event_id``, so JetStream stores it once) and deletes the row. A row left behind (publishing
failed, the process died) is published again by the next attempt or by the incident engine's sweep.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.bus.streams import event_subject
from openstatus_common.db.base import Base, BigIntId
from openstatus_common.db.models._columns import CreatedAt
from openstatus_common.messages.events import Event


class EventOutbox(CreatedAt, Base):
    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(String(255))
    # Not a foreign key: an event about a monitor outlives the monitor.
    monitor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The event exactly as it is published (JSON).
    payload: Mapped[str] = mapped_column(Text)

    @classmethod
    def from_event(cls, event: Event) -> EventOutbox:
        return cls(
            event_id=event.event_id,
            subject=event_subject(event.kind.value),
            monitor_id=event.monitor_id,
            payload=event.model_dump_json(),
        )
