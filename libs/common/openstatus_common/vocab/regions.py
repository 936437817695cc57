"""The 28 managed regions, one table, looked up in any spelling.

Spellings: short code (``ams``, ``koyeb_fra``), Terraform (``fly-ams``), wire name (``REGION_FLY_AMS``),
SDK name (``FLY_AMS``) and wire number (``1``). Numbering follows the SDK: SJC (15) precedes SIN (16).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    FLY_AMS = "ams"
    FLY_ARN = "arn"
    FLY_BOM = "bom"
    FLY_CDG = "cdg"
    FLY_DFW = "dfw"
    FLY_EWR = "ewr"
    FLY_FRA = "fra"
    FLY_GRU = "gru"
    FLY_IAD = "iad"
    FLY_JNB = "jnb"
    FLY_LAX = "lax"
    FLY_LHR = "lhr"
    FLY_NRT = "nrt"
    FLY_ORD = "ord"
    FLY_SJC = "sjc"
    FLY_SIN = "sin"
    FLY_SYD = "syd"
    FLY_YYZ = "yyz"
    KOYEB_FRA = "koyeb_fra"
    KOYEB_PAR = "koyeb_par"
    KOYEB_SFO = "koyeb_sfo"
    KOYEB_SIN = "koyeb_sin"
    KOYEB_TYO = "koyeb_tyo"
    KOYEB_WAS = "koyeb_was"
    RAILWAY_US_WEST2 = "railway_us-west2"
    RAILWAY_US_EAST4 = "railway_us-east4-eqdc4a"
    RAILWAY_EUROPE_WEST4 = "railway_europe-west4-drams3a"
    RAILWAY_ASIA_SOUTHEAST1 = "railway_asia-southeast1-eqsg3a"

    @property
    def info(self) -> RegionInfo:
        return _BY_REGION[self]

    @property
    def wire(self) -> str:
        return f"REGION_{self.name}"

    @property
    def number(self) -> int:
        return _BY_REGION[self].number


@dataclass(frozen=True, slots=True)
class RegionInfo:
    region: Region
    number: int
    terraform: str
    provider: str
    city: str

    @property
    def code(self) -> str:
        return self.region.value


REGIONS: tuple[RegionInfo, ...] = (
    RegionInfo(Region.FLY_AMS, 1, "fly-ams", "fly", "Amsterdam"),
    RegionInfo(Region.FLY_ARN, 2, "fly-arn", "fly", "Stockholm"),
    RegionInfo(Region.FLY_BOM, 3, "fly-bom", "fly", "Mumbai"),
    RegionInfo(Region.FLY_CDG, 4, "fly-cdg", "fly", "Paris"),
    RegionInfo(Region.FLY_DFW, 5, "fly-dfw", "fly", "Dallas"),
    RegionInfo(Region.FLY_EWR, 6, "fly-ewr", "fly", "Newark"),
    RegionInfo(Region.FLY_FRA, 7, "fly-fra", "fly", "Frankfurt"),
    RegionInfo(Region.FLY_GRU, 8, "fly-gru", "fly", "São Paulo"),
    RegionInfo(Region.FLY_IAD, 9, "fly-iad", "fly", "Washington D.C."),
    RegionInfo(Region.FLY_JNB, 10, "fly-jnb", "fly", "Johannesburg"),
    RegionInfo(Region.FLY_LAX, 11, "fly-lax", "fly", "Los Angeles"),
    RegionInfo(Region.FLY_LHR, 12, "fly-lhr", "fly", "London"),
    RegionInfo(Region.FLY_NRT, 13, "fly-nrt", "fly", "Tokyo"),
    RegionInfo(Region.FLY_ORD, 14, "fly-ord", "fly", "Chicago"),
    RegionInfo(Region.FLY_SJC, 15, "fly-sjc", "fly", "San Jose"),
    RegionInfo(Region.FLY_SIN, 16, "fly-sin", "fly", "Singapore"),
    RegionInfo(Region.FLY_SYD, 17, "fly-syd", "fly", "Sydney"),
    RegionInfo(Region.FLY_YYZ, 18, "fly-yyz", "fly", "Toronto"),
    RegionInfo(Region.KOYEB_FRA, 19, "koyeb-fra", "koyeb", "Frankfurt"),
    RegionInfo(Region.KOYEB_PAR, 20, "koyeb-par", "koyeb", "Paris"),
    RegionInfo(Region.KOYEB_SFO, 21, "koyeb-sfo", "koyeb", "San Francisco"),
    RegionInfo(Region.KOYEB_SIN, 22, "koyeb-sin", "koyeb", "Singapore"),
    RegionInfo(Region.KOYEB_TYO, 23, "koyeb-tyo", "koyeb", "Tokyo"),
    RegionInfo(Region.KOYEB_WAS, 24, "koyeb-was", "koyeb", "Washington"),
    RegionInfo(Region.RAILWAY_US_WEST2, 25, "railway-us-west2", "railway", "US West"),
    RegionInfo(Region.RAILWAY_US_EAST4, 26, "railway-us-east4", "railway", "US East"),
    RegionInfo(Region.RAILWAY_EUROPE_WEST4, 27, "railway-europe-west4", "railway", "Europe West"),
    RegionInfo(Region.RAILWAY_ASIA_SOUTHEAST1, 28, "railway-asia-southeast1", "railway", "Asia Southeast"),
)

_BY_REGION: dict[Region, RegionInfo] = {info.region: info for info in REGIONS}
_LOOKUP: dict[str, Region] = {}
for _info in REGIONS:
    for _spelling in (
        _info.region.value,
        _info.terraform,
        _info.region.name,
        f"REGION_{_info.region.name}",
        str(_info.number),
    ):
        _LOOKUP[_spelling.lower()] = _info.region
    # Railway regions are also known by their bare location code (``us-west2``).
    if _info.provider == "railway":
        _LOOKUP[_info.region.value.split("_", 1)[1].lower()] = _info.region


def parse_region(value: object) -> Region:
    """Return the region for any known spelling; raise ValueError naming the valid codes otherwise."""
    if isinstance(value, Region):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"unknown region {value!r}")
    region = _LOOKUP.get(str(value).strip().lower())
    if region is None:
        raise ValueError(f"unknown region {value!r}; expected one of: {', '.join(r.value for r in Region)}")
    return region
