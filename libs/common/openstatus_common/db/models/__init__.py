"""The ORM models: one module per table (link tables live with the table that owns them).

Importing this package registers every table on ``Base.metadata``, which Alembic compares against.
"""

from openstatus_common.db.base import Base
from openstatus_common.db.models.api_key import ApiKey
from openstatus_common.db.models.audit_log import AuditLog
from openstatus_common.db.models.check_result import CheckResult
from openstatus_common.db.models.check_rollup import CheckRollup
from openstatus_common.db.models.event_outbox import EventOutbox
from openstatus_common.db.models.incident import OPEN_INCIDENT_INDEX, Incident
from openstatus_common.db.models.maintenance import Maintenance, maintenance_components
from openstatus_common.db.models.monitor import Monitor
from openstatus_common.db.models.monitor_region_state import MonitorRegionState
from openstatus_common.db.models.notification_channel import NotificationChannel, monitor_notifications
from openstatus_common.db.models.notification_delivery import NotificationDelivery
from openstatus_common.db.models.page_component import PageComponent, PageComponentGroup
from openstatus_common.db.models.page_subscriber import PageSubscriber
from openstatus_common.db.models.status_page import StatusPage
from openstatus_common.db.models.status_report import (
    StatusReport,
    StatusReportUpdate,
    status_report_components,
)
from openstatus_common.db.models.subscriber_delivery import SubscriberDelivery
from openstatus_common.db.models.workspace import Workspace

__all__ = [
    "OPEN_INCIDENT_INDEX",
    "ApiKey",
    "AuditLog",
    "Base",
    "CheckResult",
    "CheckRollup",
    "EventOutbox",
    "Incident",
    "Maintenance",
    "Monitor",
    "MonitorRegionState",
    "NotificationChannel",
    "NotificationDelivery",
    "PageComponent",
    "PageComponentGroup",
    "PageSubscriber",
    "StatusPage",
    "StatusReport",
    "StatusReportUpdate",
    "SubscriberDelivery",
    "Workspace",
    "maintenance_components",
    "monitor_notifications",
    "status_report_components",
]
