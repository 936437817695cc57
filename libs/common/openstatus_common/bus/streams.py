"""Stream declarations and subject naming. Every subject the system uses is built here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from openstatus_common.vocab.regions import Region

DAY = 24 * 3600.0


class StreamName(StrEnum):
    CHECKS = "CHECKS"
    RESULTS = "RESULTS"
    EVENTS = "EVENTS"
    DEADLETTER = "DEADLETTER"


@dataclass(frozen=True)
class StreamSpec:
    name: StreamName
    subjects: tuple[str, ...]
    retention: RetentionPolicy
    max_age: float
    duplicate_window: float

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name.value,
            subjects=list(self.subjects),
            retention=self.retention,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age,
            duplicate_window=self.duplicate_window,
        )


STREAMS: tuple[StreamSpec, ...] = (
    # Jobs are work: each is removed once a probe acks it. A job older than a day is useless.
    StreamSpec(StreamName.CHECKS, ("checks.run.>",), RetentionPolicy.WORK_QUEUE, DAY, 600.0),
    # Results fan out to the recorder, the incident engine and the status pages.
    StreamSpec(StreamName.RESULTS, ("checks.result.>",), RetentionPolicy.LIMITS, 7 * DAY, 600.0),
    StreamSpec(StreamName.EVENTS, ("events.>",), RetentionPolicy.LIMITS, 30 * DAY, 600.0),
    # Messages no consumer could handle, kept for inspection and replay.
    StreamSpec(StreamName.DEADLETTER, ("dlq.>",), RetentionPolicy.LIMITS, 30 * DAY, 600.0),
)


# Key-value buckets: ``monitors`` holds every schedulable monitor (messages.ScheduleEntry) by id.
BUCKETS: tuple[str, ...] = ("monitors",)


def check_job_subject(region: Region) -> str:
    return f"checks.run.{region.value}"


def check_result_subject(region: Region, monitor_id: int) -> str:
    return f"checks.result.{region.value}.{monitor_id}"


def event_subject(kind: str) -> str:
    return f"events.{kind}"


def deadletter_subject(original: str) -> str:
    return f"dlq.{original}"
