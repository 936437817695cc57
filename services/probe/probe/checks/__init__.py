"""Check execution: HTTP, TCP and DNS attempts, the target policy, and the runner that makes results."""

from probe.checks.attempt import Attempt
from probe.checks.guard import TargetPolicy, TargetRefused
from probe.checks.runner import Checkers, execute

__all__ = ["Attempt", "Checkers", "TargetPolicy", "TargetRefused", "execute"]
