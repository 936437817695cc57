"""The recorder: check results from the bus into raw rows and hourly/daily rollups."""

from incident_engine.recorder.consumer import recorder_consumer, run_recorder
from incident_engine.recorder.maintenance import maintain_partitions, run_partition_maintenance
from incident_engine.recorder.service import record_results

__all__ = [
    "maintain_partitions",
    "record_results",
    "recorder_consumer",
    "run_partition_maintenance",
    "run_recorder",
]
