"""The project's two commands, usable on a fresh machine that has only Python 3.11+.

    python3 dev.py run     # set up on first use, then start Corridor (API + dashboard) on 127.0.0.1:8000
    python3 dev.py test    # set up on first use, then lint, type-check and run the whole test suite

Set-up means: a virtual environment in .venv with the project and its development tools installed
from the package registry. It is redone when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".corridor-installed"


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def setup() -> None:
    """Create .venv and install the project with its dev extras, unless already up to date."""
    if STAMP.is_file() and STAMP.read_text() == _fingerprint():
        return
    print("setting up .venv (first run, or pyproject.toml changed) ...", flush=True)
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "--upgrade", "pip"])
    _run([*pip, "-e", f"{ROOT}[dev]"])
    STAMP.write_text(_fingerprint())


def build_web() -> None:
    """Install the dashboard's npm packages (from the npm registry) and copy Leaflet into static/."""
    vendor = ROOT / "src" / "corridor" / "web" / "static" / "vendor" / "leaflet"
    if (vendor / "leaflet.js").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        print("warning: npm not found; the dashboard map needs Leaflet from npm (install Node.js)")
        return
    _run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT / "web")
    shutil.copytree(ROOT / "web" / "node_modules" / "leaflet" / "dist", vendor, dirs_exist_ok=True)


def _run(cmd: list[str], cwd: Path = ROOT) -> None:
    result = subprocess.run(cmd, cwd=cwd)
    if result.returncode != 0:
        sys.exit(result.returncode)


def run(args: list[str]) -> None:
    setup()
    build_web()
    _run([str(BIN / "corridor"), "serve", *args])


def test(args: list[str]) -> None:
    setup()
    build_web()
    _run([str(BIN / "ruff"), "check", "."])
    _run([str(BIN / "ruff"), "format", "--check", "."])
    _run([str(BIN / "mypy")])
    _run([str(BIN / "python"), "-m", "pytest", *args])


def setup_command(args: list[str]) -> None:
    setup()


COMMANDS = {"run": run, "test": test, "setup": setup_command}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args]")
    COMMANDS[sys.argv[1]](sys.argv[2:])
