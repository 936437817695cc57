"""Pure rules shared by every service: one implementation of each (assertion evaluation, ...)."""

from openstatus_common.rules.assertions import default_status_ok, evaluate

__all__ = ["default_status_ok", "evaluate"]
