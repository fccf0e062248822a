"""The README's worked examples, run as tests (the way SimPy runs its documentation examples).

- ``console`` blocks: every ``$ corridor ...`` line is run in-process against an embedded database
  seeded with the demo; each expected output line under it must appear in the output, in order
  (a line with ``...`` is a wildcard). ``$ curl`` lines need a running server: the API tests cover them.
- ``python`` blocks run as they are; a ``print(...)  # expected`` comment must match what it printed.

A block preceded by ``<!-- readme-test: skip (reason) -->`` is not run (say why).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"(<!-- readme-test: skip[^>]*-->\s*)?```(console|python)\n(.*?)```", re.S)


@dataclass
class Example:
    kind: str
    line: int
    body: str


def examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group(1):
            continue
        found.append(Example(match.group(2), text[: match.start()].count("\n") + 1, match.group(3)))
    return found


def commands(body: str) -> list[tuple[str, int, list[str]]]:
    """(command, exit code, expected lines) for every corridor command of a console block.

    A trailing comment ``# exits N`` gives the expected exit code (default 0); commands that use
    shell variables (``$ID``) depend on an earlier answer and are documentation only.
    """
    out: list[tuple[str, int, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            command, _, comment = re.split(r"\s{2,}(#)", line[2:] + "  #", maxsplit=1)
            code = re.search(r"exits? (\d)", comment)
            out.append((command.strip(), int(code.group(1)) if code else 0, []))
        elif out:
            out[-1][2].append(line.rstrip())
    return [
        (c.removeprefix(".venv/bin/"), code, expected)
        for c, code, expected in out
        if c.removeprefix(".venv/bin/").startswith("corridor ") and "$" not in c
    ]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory, demo_template):
    """CORRIDOR_VAR_DIR of the examples: its corridor.db is the seeded demo."""
    home = tmp_path_factory.mktemp("readme")
    demo_template.copy(home, "corridor.db").dispose()
    return home


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("example", examples(), ids=lambda e: f"README.md:{e.line}")
def test_readme_example(example, demo_home, monkeypatch, tmp_path):
    from corridor.cli import app
    from corridor.settings import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(demo_home))
    get_settings.cache_clear()
    try:
        if example.kind == "python":
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(example.body, f"README.md:{example.line}", "exec"), {})
            expected = [
                m.group(1).strip()
                for m in re.finditer(r"print\(.*\)\s+#\s*(.+)$", example.body, re.M)
            ]
            lines = printed.getvalue().splitlines()
            assert len(lines) == len(expected), printed.getvalue()
            for got, want in zip(lines, expected, strict=True):
                assert _norm(got).startswith(_norm(want)), (got, want)
            return
        runner = CliRunner()
        for command, want_exit, expected in commands(example.body):
            command, _, target = command.partition(" > ")
            result = runner.invoke(app, shlex.split(command)[1:], catch_exceptions=False)
            if target:
                Path(target.strip()).write_text(result.output, encoding="utf-8")
            assert result.exit_code == want_exit, f"{command}\n{result.output}"
            position = 0
            output = _norm(result.output)
            for line in expected:
                if not line.strip() or "..." in line or "…" in line:
                    continue
                found = output.find(_norm(line), position)
                assert found >= 0, f"{command}: expected {line!r} in\n{result.output}"
                position = found
    finally:
        get_settings.cache_clear()
