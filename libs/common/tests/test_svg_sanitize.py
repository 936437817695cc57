"""SVG favicons are rebuilt from an allowlist: no script, no handlers, no external references, no DTD."""

from __future__ import annotations

import pytest

from openstatus_common.errors import InvalidArgument
from openstatus_common.pages.svg import sanitize_svg

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">%s</svg>'


def clean(body: str) -> str:
    return sanitize_svg(SVG % body.encode()).decode()


def test_a_plain_icon_keeps_its_shapes_and_attributes() -> None:
    out = clean('<circle cx="8" cy="8" r="7" fill="#0a0" stroke-width="2"/><path d="M0 0L16 16"/>')
    assert out.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">')
    assert '<circle cx="8" cy="8" r="7" fill="#0a0" stroke-width="2"></circle>' in out
    assert '<path d="M0 0L16 16"></path>' in out


def test_scripts_handlers_and_foreign_content_are_dropped() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(1)</script><script href='https://evil.example/x.js'/>"
        b'<rect width="1" onclick="steal()" onmouseover="x()"/>'
        b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="y()"/></div>'
        b"</foreignObject><style>rect{background:url(https://evil.example)}</style></svg>"
    )
    out = sanitize_svg(svg).decode()
    assert out == '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1"></rect></svg>'


def test_only_local_references_survive() -> None:
    out = clean(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
        '<rect fill="url(#g)"/><rect fill="url(https://evil.example/a.svg#g)"/>'
        '<use href="#g"/><use href="https://evil.example/a.svg#x"/>'
        '<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="javascript:alert(1)"/>'
        '<a href="javascript:alert(1)"><rect/></a>'
    )
    assert 'fill="url(#g)"' in out
    assert "evil" not in out
    assert "javascript" not in out
    assert '<use href="#g"></use>' in out
    assert "<a" not in out


def test_xlink_href_to_a_local_id_is_kept_with_its_namespace() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<use xlink:href="#a"/></svg>'
    )
    out = sanitize_svg(svg).decode()
    assert 'xmlns:xlink="http://www.w3.org/1999/xlink"' in out
    assert '<use xlink:href="#a"></use>' in out


@pytest.mark.parametrize(
    "style",
    [
        "background:url(https://evil.example)",
        "width:expression(alert(1))",
        "@import 'x.css'",
        "fill:red;x:javascript:y",
    ],
)
def test_dangerous_styles_are_dropped(style: str) -> None:
    out = clean(f'<rect style="{style}" width="2"/>')
    assert "style" not in out
    assert 'width="2"' in out


def test_text_is_kept_escaped_and_comments_dropped() -> None:
    out = clean("<!-- secret --><text>a &lt; b &amp; <tspan>c</tspan> d</text>")
    assert "<text>a &lt; b &amp; <tspan>c</tspan> d</text>" in out
    assert "secret" not in out


def test_an_svg_without_a_namespace_gets_one() -> None:
    assert (
        sanitize_svg(b"<svg><rect/></svg>") == b'<svg xmlns="http://www.w3.org/2000/svg"><rect></rect></svg>'
    )


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]><svg>&b;</svg>',
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
        b'<svg><!ENTITY x SYSTEM "file:///etc/passwd"></svg>',
    ],
)
def test_dtds_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidArgument) as error:
        sanitize_svg(data)
    assert error.value.field == "icon"
    assert "DTD" in error.value.message


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "UTF-8"),
        (b"just text", "well-formed"),
        (b"<html><body/></html>", "root element must be <svg>"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect>', "well-formed"),
    ],
)
def test_non_svg_input_is_refused_naming_the_icon_field(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        sanitize_svg(data)
    assert error.value.field == "icon"
    assert reason in error.value.message


def test_absurd_nesting_is_refused() -> None:
    deep = b"<g>" * 100 + b"</g>" * 100
    with pytest.raises(InvalidArgument, match="nested"):
        sanitize_svg(SVG % deep)
