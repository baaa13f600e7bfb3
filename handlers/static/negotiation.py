"""Proactive negotiation (RFC 9110 12.5): the content coding a request accepts (for precompressed
siblings) and the media type it prefers (JSON or HTML listings, single-page-app fallbacks). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator

# RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
_WEIGHT = re.compile(r"[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", re.ASCII)

# The codings we look for as siblings, in our order of preference when the client weighs them the
# same: brotli files are smaller than gzip ones.
CODINGS = ("br", "gzip")
SUFFIXES = {"br": ".br", "gzip": ".gz"}


def _weighted(value: str) -> Iterator[tuple[str, float]]:
    """Each element of an Accept-style list as its lower-cased name (parameters dropped) and weight.
    An element with a malformed weight is skipped, as if it were not there."""
    for element in value.split(","):
        name, *parameters = element.split(";")
        name = name.strip(" \t").lower()
        if not name:
            continue  # RFC 9110 5.6.1: empty list elements are ignored
        quality = 1.0
        for parameter in parameters:
            parameter = parameter.strip(" \t")
            if parameter[:2] in ("q=", "Q="):
                match = _WEIGHT.fullmatch(parameter)
                quality = float(match.group(1)) if match else -1.0
                break
        if quality >= 0:
            yield name, quality


def preferred_codings(accept_encoding: str) -> list[str]:
    """The codings of CODINGS that ``accept_encoding`` accepts, best first (RFC 9110 12.5.3): a coding
    named explicitly takes its own weight, ``*`` weighs every coding not named, ``q=0`` refuses, and
    ``x-gzip`` is ``gzip`` (RFC 9110 8.4.1.3). Ties keep our order."""
    named: dict[str, float] = {}
    anything: float | None = None
    for name, quality in _weighted(accept_encoding):
        if name == "*":
            anything = quality if anything is None else anything
        else:
            named.setdefault("gzip" if name == "x-gzip" else name, quality)
    ranked = []
    for order, coding in enumerate(CODINGS):
        quality = named.get(coding, anything or 0.0)
        if quality > 0:
            ranked.append((-quality, order, coding))
    return [coding for _quality, _order, coding in sorted(ranked)]


def _media_quality(accept: str, media_type: str) -> tuple[float, int]:
    """The weight ``accept`` gives ``media_type``, taken from the most specific range that matches it
    (RFC 9110 12.5.1), and that range's specificity: 3 for type/subtype, 2 for type/*, 1 for */*, 0
    when nothing matches (weight 0)."""
    wildcard = media_type.partition("/")[0] + "/*"
    best = (0.0, 0)
    for name, quality in _weighted(accept):
        if name == media_type:
            specificity = 3
        elif name == wildcard:
            specificity = 2
        elif name == "*/*":
            specificity = 1
        else:
            continue
        if specificity > best[1]:
            best = (quality, specificity)
    return best


def prefers_json(accept: str | None) -> bool:
    """True when ``accept`` weighs application/json above text/html (a tie, ``*/*``, stays HTML)."""
    if not accept:
        return False
    return _media_quality(accept, "application/json")[0] > _media_quality(accept, "text/html")[0]


def asks_for_html(accept: str | None) -> bool:
    """True when ``accept`` names text/html itself with a weight above 0: a browser navigating to a
    page, not a script, image or fetch() that takes anything (``*/*``)."""
    if not accept:
        return False
    quality, specificity = _media_quality(accept, "text/html")
    return specificity == 3 and quality > 0
