"""Incidents: region states, the monitor's status by quorum, incidents opened and resolved, their events."""

from incident_engine.incidents.engine import Applied, apply_result, lock_monitor
from incident_engine.incidents.maintenance import active_maintenance_for
from incident_engine.incidents.worker import incidents_consumer, run_incident_engine
from openstatus_common.outbox import publish_pending, stage, sweep

__all__ = [
    "Applied",
    "active_maintenance_for",
    "apply_result",
    "incidents_consumer",
    "lock_monitor",
    "publish_pending",
    "run_incident_engine",
    "stage",
    "sweep",
]
