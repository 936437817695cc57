"""Sanitizing SVG favicons before they are stored and served.

An SVG is a document that can run script. :func:`sanitize_svg` parses it with the standard library's XML
parser after refusing any DTD (so no entity expansion, internal or external, can happen), then rebuilds it
from an allowlist: known SVG elements only (``<script>``, ``<style>``, ``<foreignObject>``, ``<image>``,
``<a>`` and anything unknown are dropped with their content), known presentation attributes only (every
``on*`` handler is dropped), ``href``/``xlink:href`` only when local (``#id``), ``url(...)`` only when local,
and ``style`` only when it has no ``url(``, ``expression``, ``@import`` or ``javascript:``. Comments and
processing instructions are dropped. The output is UTF-8 with the SVG namespace on the root.

Input that is not an SVG document raises :class:`~openstatus_common.errors.InvalidArgument` naming the
``icon`` field.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from openstatus_common.errors import InvalidArgument

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
FIELD = "icon"
MAX_DEPTH = 64
MAX_ELEMENTS = 20_000

ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
        "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop",
        "clipPath", "mask", "pattern", "marker", "filter", "feBlend", "feColorMatrix",
        "feComponentTransfer", "feComposite", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG",
        "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset",
    }
)  # fmt: skip
# Elements whose text content is kept (everything else keeps only its child elements).
TEXT_ELEMENTS = frozenset({"title", "desc", "text", "tspan", "textPath"})
ATTRIBUTES = frozenset(
    {
        "id", "class", "style", "width", "height", "viewBox", "preserveAspectRatio", "version", "x", "y",
        "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "d", "points", "pathLength",
        "dx", "dy", "rotate", "transform", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width",
        "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset",
        "stroke-opacity", "opacity", "color", "display", "visibility", "overflow", "clip-path", "clip-rule",
        "mask", "filter", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform",
        "spreadMethod", "patternUnits", "patternContentUnits", "patternTransform", "maskUnits",
        "maskContentUnits", "clipPathUnits", "markerWidth", "markerHeight", "markerUnits", "refX", "refY",
        "orient", "marker-start", "marker-mid", "marker-end", "font-family", "font-size", "font-weight",
        "font-style", "font-variant", "text-anchor", "dominant-baseline", "alignment-baseline",
        "baseline-shift", "letter-spacing", "word-spacing", "text-decoration", "textLength", "lengthAdjust",
        "startOffset", "writing-mode", "shape-rendering", "text-rendering", "image-rendering",
        "color-interpolation", "color-interpolation-filters", "vector-effect", "paint-order", "mix-blend-mode",
        "isolation", "filterUnits", "primitiveUnits", "in", "in2", "result", "mode", "type", "values",
        "operator", "k1", "k2", "k3", "k4", "stdDeviation", "edgeMode", "radius", "flood-color",
        "flood-opacity", "tableValues", "slope", "intercept", "amplitude", "exponent", "href",
    }
)  # fmt: skip
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_BAD_STYLE = ("url(", "expression", "@import", "javascript:", "behavior", "-moz-binding")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _invalid(reason: str) -> InvalidArgument:
    return InvalidArgument(f"{FIELD}: {reason}", field=FIELD)


def _split(name: str) -> tuple[str | None, str]:
    """``{ns}local`` -> (ns, local); a name without a namespace -> (None, name)."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return None, name


def _local_refs_only(value: str) -> bool:
    return all(match.group(2).strip().startswith("#") for match in _URL.finditer(value))


def _attribute(name: str, value: str) -> tuple[str, str] | None:
    """The attribute as written out (``xlink:href`` keeps its prefix), or None to drop it."""
    namespace, local = _split(name)
    lowered = re.sub(r"\s+", "", value).lower()
    if local.lower().startswith("on") or "javascript:" in lowered or "vbscript:" in lowered:
        return None
    if namespace == XLINK_NS and local == "href":
        return ("xlink:href", value) if value.strip().startswith("#") else None
    if namespace == XML_NS and local == "space":
        return ("xml:space", value) if value in ("default", "preserve") else None
    if namespace is not None or local not in ATTRIBUTES:
        return None
    if local == "href":
        return (local, value) if value.strip().startswith("#") else None
    if local == "style":
        return None if any(bad in lowered for bad in _BAD_STYLE) else (local, value)
    if "url(" in lowered and not _local_refs_only(value):
        return None
    return local, value


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.elements = 0
        self.uses_xlink = False

    def element(self, node: ET.Element, depth: int) -> None:
        namespace, tag = _split(node.tag)
        if namespace not in (SVG_NS, None) or tag not in ELEMENTS:
            return
        if depth > MAX_DEPTH:
            raise _invalid(f"the SVG is nested more than {MAX_DEPTH} levels deep")
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _invalid(f"the SVG has more than {MAX_ELEMENTS} elements")
        attributes = []
        for name, value in node.attrib.items():
            kept = _attribute(name, _CONTROL.sub("", value))
            if kept is not None:
                self.uses_xlink |= kept[0] == "xlink:href"
                attributes.append(f" {kept[0]}={quoteattr(kept[1])}")
        self.parts.append(f"<{tag}{''.join(attributes)}>")
        if tag in TEXT_ELEMENTS and node.text:
            self.parts.append(escape(_CONTROL.sub("", node.text)))
        for child in node:
            self.element(child, depth + 1)
            if tag in TEXT_ELEMENTS and child.tail:
                self.parts.append(escape(_CONTROL.sub("", child.tail)))
        self.parts.append(f"</{tag}>")


def _parse(data: bytes) -> ET.Element:
    if _DTD.search(data):
        raise _invalid("SVG files with a DTD or entity declarations are not accepted")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid("the SVG must be UTF-8 encoded") from None
    try:
        # No DTD can reach the parser (refused above), so expat expands no entity beyond the five built-in.
        return ET.fromstring(text)  # noqa: S314
    except ET.ParseError as error:
        raise _invalid(f"not a well-formed SVG document ({error})") from None


def sanitize_svg(data: bytes) -> bytes:
    """``data`` rebuilt from the allowlist; raises InvalidArgument (field ``icon``) unless it is an SVG."""
    root = _parse(data)
    namespace, tag = _split(root.tag)
    if tag != "svg" or namespace not in (SVG_NS, None):
        raise _invalid("not an SVG document (the root element must be <svg>)")
    writer = _Writer()
    writer.element(root, 1)
    body = "".join(writer.parts)
    namespaces = f' xmlns="{SVG_NS}"' + (f' xmlns:xlink="{XLINK_NS}"' if writer.uses_xlink else "")
    return ("<svg" + namespaces + body[len("<svg") :]).encode("utf-8")
