"""API error texts in the caller's language: ``Accept-Language`` picks a message catalogue.

The catalogues are data, ``src/corridor/data/i18n/errors.<code>.json``, one file per language,
so that a translator adds Azerbaijani or Kazakh without code: the messages of pydantic's
validation error types, reason templates, and a few words that appear as parameters (states,
actions, channels). Domains keep raising plain English reasons; a reason is
translated by matching it against the English templates (``{name}`` is a parameter), so a
template whose parameters are field names, states or values needs no change where it is raised.
A reason no template matches stays English: a partial translation never garbles a message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from corridor.settings import PACKAGE_DATA_DIR

CATALOGUES = PACKAGE_DATA_DIR / "i18n"
DEFAULT = "en"
#: Parameters that hold a nested reason, translated in turn.
NESTED = frozenset({"reason", "rest", "why", "detail"})
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Catalogue:
    """One language's error texts (see ``errors.en.json`` for the keys)."""

    language: str
    validation: dict[str, str]
    reasons: dict[str, str]
    words: dict[str, str]


@cache
def catalogues() -> dict[str, Catalogue]:
    """Every catalogue shipped, by language code (read once)."""
    found: dict[str, Catalogue] = {}
    for path in sorted(CATALOGUES.glob("errors.*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["language"]] = Catalogue(
            data["language"], data["validation"], data["reasons"], data["words"]
        )
    return found


def negotiate(header: str | None) -> str:
    """The best language of ``header`` (RFC 9110 Accept-Language, with q-values) we have.

    A range matches a catalogue by its primary subtag (``ru-RU`` -> ``ru``); ``*`` and an
    absent or unusable header give English; ``q=0`` rules a language out.
    """
    available = catalogues()
    best, best_q = DEFAULT, -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not tag or not 0 < q <= 1:
            continue
        code = DEFAULT if tag == "*" else tag.split("-")[0]
        # Equal q-values keep the header's order: the first listed wins.
        if code in available and q > best_q:
            best, best_q = code, q
    return best


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The English reason templates as patterns, most literal text first (most specific)."""
    english = catalogues()[DEFAULT].reasons
    compiled = []
    for key, template in english.items():
        pieces = _PARAM.split(template)
        regex = "".join(
            f"(?P<{piece}>.*?)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
        )
        compiled.append((key, re.compile(regex, re.DOTALL)))
    literal = {key: len(_PARAM.sub("", t)) for key, t in english.items()}
    compiled.sort(key=lambda kp: -literal[kp[0]])
    return compiled


def _param(name: str, value: str, catalogue: Catalogue) -> str:
    if name in NESTED:
        return reason(value, catalogue.language)
    return catalogue.words.get(value, value)


def reason(text: str, language: str) -> str:
    """``text`` (an English reason) in ``language``, or as it is when no template matches."""
    catalogue = catalogues().get(language)
    if catalogue is None or language == DEFAULT:
        return text
    for key, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match is None or key not in catalogue.reasons:
            continue
        values = {n: _param(n, v, catalogue) for n, v in match.groupdict().items()}
        return _fill(catalogue.reasons[key], values)
    return text


def _fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{name}`` replaced by its value (unknown names are kept)."""
    return _PARAM.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def validation(kind: str, params: dict[str, Any], language: str) -> str | None:
    """The message of a pydantic validation error type in ``language``, if catalogued."""
    catalogue = catalogues().get(language)
    template = catalogue.validation.get(kind) if catalogue else None
    if template is None:
        return None
    names = set(_PARAM.findall(template))
    if not names <= params.keys():
        return None
    return _fill(template, {n: str(params[n]) for n in names})


__all__ = ["Catalogue", "catalogues", "negotiate", "reason", "validation"]
