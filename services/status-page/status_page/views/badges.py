"""Status badges (seed page 08): ``/badge/v2`` (SVG pill, monospaced) and the legacy ``/badge`` (PNG).

Both show the page's overall status: a coloured dot and a short label. ``theme=light|dark`` (default light)
and ``size=sm|md|lg|xl`` (default sm) apply to both; ``variant=outline`` adds a border to the SVG one.
Unknown values fall back to the defaults. Each variant is rendered once per snapshot (``respond``).
"""

from __future__ import annotations

import asyncio
import io
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFont
from starlette.responses import Response

from status_page.context import PageRequest
from status_page.views.common import respond
from status_page.views.feeds import public_headers
from status_page.vocabulary import SURFACES, Theme, overall_style

SVG = "image/svg+xml"
PNG = "image/png"
SVG_NS = "http://www.w3.org/2000/svg"
MONOSPACE = "ui-monospace,SFMono-Regular,Menlo,Monaco,Consolas,'Liberation Mono','Courier New',monospace"
# Advance of one monospaced glyph, in ems (Menlo and DejaVu Sans Mono: 0.602); textLength pins it anyway.
CHAR_WIDTH = 0.61
# The PNG is drawn this many times larger, then scaled down (anti-aliased edges).
SUPERSAMPLE = 4

Size = Literal["sm", "md", "lg", "xl"]
Variant = Literal["default", "outline"]


@dataclass(frozen=True, slots=True)
class Metrics:
    height: int
    font_size: float
    dot_radius: float
    padding: float
    gap: float


SIZE_NAMES: dict[str, Size] = {"sm": "sm", "md": "md", "lg": "lg", "xl": "xl"}
SIZES: dict[Size, Metrics] = {
    "sm": Metrics(height=20, font_size=11, dot_radius=4, padding=8, gap=6),
    "md": Metrics(height=24, font_size=13, dot_radius=5, padding=10, gap=7),
    "lg": Metrics(height=28, font_size=15, dot_radius=5.5, padding=12, gap=8),
    "xl": Metrics(height=34, font_size=18, dot_radius=7, padding=14, gap=10),
}


@dataclass(frozen=True, slots=True)
class BadgeOptions:
    theme: Theme = "light"
    size: Size = "sm"
    variant: Variant = "default"

    @classmethod
    def parse(cls, pr: PageRequest) -> BadgeOptions:
        query = pr.request.query_params
        theme = (query.get("theme") or "").strip().lower()
        size = (query.get("size") or "").strip().lower()
        variant = (query.get("variant") or "").strip().lower()
        return cls(
            theme="dark" if theme == "dark" else "light",
            size=SIZE_NAMES.get(size, "sm"),
            variant="outline" if variant == "outline" else "default",
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.theme, self.size, self.variant)


def badge_label(pr: PageRequest) -> str:
    """``badge.<status>`` from the page's translations when they have it, else the vocabulary's label."""
    status = pr.snapshot.status.value
    key = f"badge.{status}"
    translated = pr.t(key)
    return translated if translated != key else overall_style(status).label


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_svg(pr: PageRequest, options: BadgeOptions) -> bytes:
    metrics = SIZES[options.size]
    surface = SURFACES[options.theme]
    label = badge_label(pr)
    colour = overall_style(pr.snapshot.status.value).colour.for_theme(options.theme)
    text_width = len(label) * metrics.font_size * CHAR_WIDTH
    text_x = metrics.padding + 2 * metrics.dot_radius + metrics.gap
    width = math.ceil(text_x + text_width + metrics.padding)
    height = metrics.height

    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-label": label,
        },
    )
    ET.SubElement(svg, "title").text = f"{pr.snapshot.page.title}: {label}"
    background = {
        "x": "0",
        "y": "0",
        "width": str(width),
        "height": str(height),
        "rx": _fmt(height / 2),
        "fill": surface.background,
    }
    if options.variant == "outline":
        background.update(
            x="0.5",
            y="0.5",
            width=_fmt(width - 1),
            height=_fmt(height - 1),
            rx=_fmt((height - 1) / 2),
            stroke=surface.border,
        )
        background["stroke-width"] = "1"
    ET.SubElement(svg, "rect", background)
    ET.SubElement(
        svg,
        "circle",
        {
            "cx": _fmt(metrics.padding + metrics.dot_radius),
            "cy": _fmt(height / 2),
            "r": _fmt(metrics.dot_radius),
            "fill": colour,
        },
    )
    text = ET.SubElement(
        svg,
        "text",
        {
            "x": _fmt(text_x),
            "y": _fmt(height / 2 + metrics.font_size * 0.35),
            "fill": surface.text,
            "font-family": MONOSPACE,
            "font-size": _fmt(metrics.font_size),
            "textLength": _fmt(text_width),
            "lengthAdjust": "spacingAndGlyphs",
        },
    )
    text.text = label
    body: bytes = ET.tostring(svg, encoding="utf-8", xml_declaration=False)
    return body


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@lru_cache(maxsize=8)
def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def render_png(pr: PageRequest, options: BadgeOptions) -> bytes:
    metrics = SIZES[options.size]
    surface = SURFACES[options.theme]
    label = badge_label(pr)
    colour = overall_style(pr.snapshot.status.value).colour.for_theme(options.theme)
    scale = SUPERSAMPLE
    font = _font(metrics.font_size * scale)
    text_x = (metrics.padding + 2 * metrics.dot_radius + metrics.gap) * scale
    text_width = font.getlength(label)
    width = math.ceil((text_x + text_width) / scale + metrics.padding)
    height = metrics.height

    image = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (0, 0, width * scale - 1, height * scale - 1),
        radius=height * scale // 2,
        fill=_rgb(surface.background),
    )
    centre_x = (metrics.padding + metrics.dot_radius) * scale
    centre_y = height * scale / 2
    radius = metrics.dot_radius * scale
    draw.ellipse(
        (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius), fill=_rgb(colour)
    )
    draw.text((text_x, centre_y), label, font=font, fill=_rgb(surface.text), anchor="lm")
    small = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _headers(pr: PageRequest) -> dict[str, str]:
    return {**public_headers(pr), "Content-Security-Policy": "default-src 'none'"}


async def badge_v2(pr: PageRequest) -> Response:
    options = BadgeOptions.parse(pr)

    async def render() -> tuple[bytes, str]:
        return render_svg(pr, options), SVG

    return await respond(pr, ("svg", *options.key), render, headers=_headers(pr))


async def badge(pr: PageRequest) -> Response:
    options = BadgeOptions.parse(pr)
    options = BadgeOptions(theme=options.theme, size=options.size)  # the PNG has no variant

    async def render() -> tuple[bytes, str]:
        # Pillow work (a few milliseconds) stays off the event loop.
        return await asyncio.to_thread(render_png, pr, options), PNG

    return await respond(pr, ("png", *options.key), render, headers=_headers(pr))
