"""What the real-browser tests need, found or installed once, else a skip that says why: Debian's chromium (which
``scripts/test`` installs as root), Playwright for Python (the test extra; it drives the system chromium, no browser
download), and Vite from npm, installed into ``tests/.cache/vite`` (kept between runs, ignored by git)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

CACHE = Path(__file__).resolve().parent.parent / ".cache"
VITE_DIR = CACHE / "vite"
VITE = "vite@8"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("browser tests: chromium is not installed (scripts/test installs Debian's package as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests: playwright is not installed (pip install -e '.[test]')")
    return path


def vite_bin() -> Path:
    """Vite's launcher, installed with npm into the cache on first use (one installer at a time)."""
    launcher = VITE_DIR / "node_modules" / "vite" / "bin" / "vite.js"
    if launcher.exists():
        return launcher
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("browser tests: Node.js and npm are needed for the Vite dev server")
    VITE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE / "vite.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not launcher.exists():
            (VITE_DIR / "package.json").write_text('{"private": true}\n')
            install = ["npm", "install", "--prefix", str(VITE_DIR), "--no-audit", "--no-fund", "--silent", VITE]
            result = subprocess.run(install, capture_output=True, text=True, timeout=300, check=False)
            if result.returncode != 0 or not launcher.exists():
                pytest.skip(f"browser tests: npm install {VITE} failed: {(result.stderr or result.stdout)[-300:]}")
    return launcher
