"""Slot arithmetic: when each monitor is due. Pure functions on epoch milliseconds.

Each monitor gets a stable phase inside its period (a hash of its id), so ten thousand monitors with a
one-minute period spread evenly over the minute instead of firing together at :00. Slots are absolute
(``k * period + phase``), so cadence never drifts and every scheduler replica computes the same instants.
"""

from __future__ import annotations

import hashlib


def phase_ms(monitor_id: int, period_ms: int) -> int:
    digest = hashlib.blake2b(str(monitor_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % period_ms


def slot_after(now_ms: int, period_ms: int, phase: int) -> int:
    """The first slot strictly after ``now_ms``."""
    k = (now_ms - phase) // period_ms + 1
    return k * period_ms + phase


def slot_at_or_before(now_ms: int, period_ms: int, phase: int) -> int:
    """The latest slot at or before ``now_ms``."""
    return slot_after(now_ms, period_ms, phase) - period_ms
