"""The six check periodicities (wire ``PERIODICITY_*``; Terraform/YAML ``30s`` ... ``1h``)."""

from __future__ import annotations

from enum import StrEnum

from openstatus_common.vocab._lookup import Vocabulary


class Periodicity(StrEnum):
    P30S = "30s"
    P1M = "1m"
    P5M = "5m"
    P10M = "10m"
    P30M = "30m"
    P1H = "1h"

    @property
    def seconds(self) -> int:
        return _SECONDS[self]


_SECONDS = {
    Periodicity.P30S: 30,
    Periodicity.P1M: 60,
    Periodicity.P5M: 300,
    Periodicity.P10M: 600,
    Periodicity.P30M: 1800,
    Periodicity.P1H: 3600,
}

PERIODICITY = Vocabulary(
    Periodicity,
    wire_prefix="PERIODICITY_",
    numbers={p: i for i, p in enumerate(Periodicity, start=1)},
    # Python names need a leading letter; the proto names do not: PERIODICITY_30S, PERIODICITY_1M ...
    proto_names={p: p.name[1:] for p in Periodicity},
    label="periodicity",
)
