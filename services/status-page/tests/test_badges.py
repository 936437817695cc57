"""Status badges: the SVG v2 pill and the legacy PNG, by status, theme, size and variant."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image

from openstatus_common.db.base import utcnow
from openstatus_common.pages.status import OverallStatus
from status_page.vocabulary import OVERALL, SURFACES

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse_svg(body: bytes) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag == f"{SVG_NS}svg"
    return root


def label_of(root: ET.Element) -> str:
    text = root.find(f"{SVG_NS}text")
    assert text is not None and text.text is not None
    return text.text


def dot_of(root: ET.Element) -> str:
    circle = root.find(f"{SVG_NS}circle")
    assert circle is not None
    return circle.attrib["fill"]


def background_of(root: ET.Element) -> ET.Element:
    rect = root.find(f"{SVG_NS}rect")
    assert rect is not None
    return rect


async def test_svg_badge_is_well_formed_and_follows_the_status(pages: httpx.AsyncClient, build: Any) -> None:
    now = utcnow()
    await build.page("fine", title="Fine <script>alert(1)</script>")
    await build.component("Website")
    await build.page("down")
    monitor = await build.monitor("API")
    await build.component("API", monitor=monitor)
    await build.incident(monitor, now - timedelta(minutes=3))
    await build.page("works")
    component = await build.component("Website")
    await build.maintenance("Swap", [component], now - timedelta(minutes=5), now + timedelta(hours=1))

    expected = {
        "fine": OverallStatus.OPERATIONAL,
        "down": OverallStatus.MAJOR_OUTAGE,
        "works": OverallStatus.MAINTENANCE,
    }
    for slug, status in expected.items():
        response = await pages.get(f"/{slug}/badge/v2")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["etag"]
        root = parse_svg(response.content)
        assert label_of(root) == OVERALL[status].label
        assert dot_of(root) == OVERALL[status].colour.light
        text = root.find(f"{SVG_NS}text")
        assert text is not None and "monospace" in text.attrib["font-family"]
        assert all(not el.tag.endswith("script") for el in root.iter())
        assert all(not name.lower().startswith("on") for el in root.iter() for name in el.attrib)
    fine = (await pages.get("/fine/badge/v2")).content
    assert b"<script>" not in fine and b"&lt;script&gt;" in fine


async def test_svg_badge_honours_theme_size_and_variant(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    default = parse_svg((await pages.get("/acme/badge/v2")).content)
    assert background_of(default).attrib["fill"] == SURFACES["light"].background
    assert "stroke" not in background_of(default).attrib

    dark = parse_svg((await pages.get("/acme/badge/v2?theme=dark")).content)
    assert background_of(dark).attrib["fill"] == SURFACES["dark"].background
    assert dot_of(dark) == OVERALL[OverallStatus.OPERATIONAL].colour.dark

    outline = parse_svg((await pages.get("/acme/badge/v2?variant=outline")).content)
    assert background_of(outline).attrib["stroke"] == SURFACES["light"].border

    heights = []
    widths = []
    for size in ("sm", "md", "lg", "xl"):
        root = parse_svg((await pages.get(f"/acme/badge/v2?size={size}")).content)
        heights.append(int(root.attrib["height"]))
        widths.append(int(root.attrib["width"]))
    assert heights == sorted(set(heights)) and widths == sorted(set(widths))
    assert heights[0] == int(default.attrib["height"])

    all_options = parse_svg((await pages.get("/acme/badge/v2?theme=dark&size=lg&variant=outline")).content)
    assert all_options.attrib["height"] == str(heights[2])
    assert background_of(all_options).attrib["stroke"] == SURFACES["dark"].border


async def test_unknown_badge_options_fall_back_to_defaults(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    default = await pages.get("/acme/badge/v2")
    odd = await pages.get("/acme/badge/v2?theme=neon&size=huge&variant=%3Cscript%3E&extra=1")
    assert odd.status_code == 200
    assert odd.content == default.content and odd.headers["etag"] == default.headers["etag"]
    png_default = await pages.get("/acme/badge")
    png_odd = await pages.get("/acme/badge?theme=&size=XXL")
    assert png_odd.status_code == 200 and png_odd.content == png_default.content


async def test_badges_are_cached_with_etags(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    for path in ("/acme/badge/v2?size=md", "/acme/badge?theme=dark"):
        first = await pages.get(path)
        cached = await pages.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert cached.status_code == 304
    assert (await pages.get("/acme/badge/v2")).headers["etag"] != (
        await pages.get("/acme/badge/v2?size=md")
    ).headers["etag"]


async def test_png_badge_sizes_and_themes(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    response = await pages.get("/acme/badge")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.content.startswith(PNG_SIGNATURE)
    sizes = []
    for size in ("sm", "md", "lg", "xl"):
        body = (await pages.get(f"/acme/badge?size={size}")).content
        assert body.startswith(PNG_SIGNATURE)
        sizes.append(Image.open(io.BytesIO(body)).size)
    assert [h for _, h in sizes] == sorted({h for _, h in sizes})
    assert [w for w, _ in sizes] == sorted({w for w, _ in sizes})
    assert Image.open(io.BytesIO(response.content)).size == sizes[0]

    light = Image.open(io.BytesIO(response.content)).convert("RGBA")
    dark = Image.open(io.BytesIO((await pages.get("/acme/badge?theme=dark")).content)).convert("RGBA")
    assert light.size == dark.size
    middle = (light.size[0] - 4, light.size[1] // 2)
    assert light.getpixel(middle) != dark.getpixel(middle)
    # The PNG has no variant: it is ignored.
    outline = await pages.get("/acme/badge?variant=outline")
    assert outline.content == response.content
