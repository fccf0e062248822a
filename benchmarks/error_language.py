"""What wording an API error in the caller's language costs: negotiation and template matching.

    .venv/bin/python benchmarks/error_language.py [--rounds 20000]

An error reason is translated by matching it against the English templates of
``src/corridor/data/i18n/errors.en.json`` (one regular expression each, most literal first). This
prints the CPU time per Accept-Language negotiation, per reason matched late in the list, per
reason no template matches (the worst case: every pattern is tried) and per validation message,
so the cost can be compared with a request's (milliseconds). CPU time does not depend on what else
the machine runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from corridor.api import language

CASES: dict[str, Callable[[], object]] = {
    "negotiate 'ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7'": lambda: language.negotiate(
        "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"
    ),
    "reason: nested customs transition (ru)": lambda: language.reason(
        "cannot release a declaration in state lodged: "
        "allowed in this state: accept, amend, cancel, reject",
        "ru",
    ),
    "reason: short, matched (ru)": lambda: language.reason("no shipment 'abc'", "ru"),
    "reason: no template matches (ru, worst case)": lambda: language.reason(
        "a reason that no catalogue holds, tried against every template", "ru"
    ),
    "reason: English (no work)": lambda: language.reason("no shipment 'abc'", "en"),
    "validation: string_too_short (ru)": lambda: language.validation(
        "string_too_short", {"min_length": 1}, "ru"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    language.reason("warm the catalogues and patterns", "ru")
    print(f"{len(language.catalogues()['en'].reasons)} reason templates; {args.rounds} rounds")
    print(f"{'case':58} {'CPU us/op':>10}")
    for name, call in CASES.items():
        started = time.process_time()
        for _ in range(args.rounds):
            call()
        per = (time.process_time() - started) / args.rounds * 1e6
        print(f"{name:58} {per:10.1f}")


if __name__ == "__main__":
    main()
