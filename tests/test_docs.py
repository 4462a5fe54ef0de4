"""Every ```bash block of README.md and docs/*.md runs as written.

The blocks of one page run in order in one temporary directory (a walkthrough is a sequence), each with
``bash -e -o pipefail``, with the repository's virtual environment first on ``PATH`` and linked as
``.venv`` there (so ``kardashev``, ``.venv/bin/kardashev`` and ``python`` all work) and ``bench/`` linked
too. A block that fails fails the page's test with its file and line and the block's output.

A marker on the line just before a fence changes how its block runs:

- ``<!-- doc-test: server -->``: the block needs a running server. The test starts ``kardashev serve``
  (``--dev``, on a free port, with a data directory of its own) once for the page and exports
  ``KARDASHEV_URL`` (its base URL) to the block.
- ``<!-- doc-test: background -->``: the block starts a server itself (``kardashev serve … --port 8000``).
  It runs in the background with port 8000 replaced by a free one; it must answer ``/v1/health``, and is
  stopped once it has.
- ``<!-- doc-test: quick COMMAND -->``: the block is long (a full benchmark, the full demo); COMMAND, the
  same thing with smaller arguments, runs instead.
- ``<!-- doc-test: skip REASON -->``: not run (the README's test-suite command: it is this suite; commands
  for several machines). The reason is required.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!--\s*doc-test:\s*(server|background|quick|skip)\b\s*(.*?)\s*-->\s*$")
BLOCK_TIMEOUT_S = 300
SERVER_START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Block:
    """One ```bash block: where it starts (the fence's line, 1-based), its code and its marker."""

    page: Path
    line: int
    code: str
    marker: str | None = None
    argument: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def bash_blocks(page: Path) -> list[Block]:
    """The ```bash blocks of ``page`` in order, each with the marker on the line before its fence."""
    lines = page.read_text("utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```bash":
            index += 1
            continue
        start = index
        end = next((j for j in range(start + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise AssertionError(f"{page.relative_to(ROOT)}:{start + 1}: ```bash block never closed")
        previous = lines[start - 1] if start > 0 else ""
        found = MARKER.match(previous.strip())
        marker, argument = (found.group(1), found.group(2)) if found else (None, "")
        code = "\n".join(lines[start + 1 : end]) + "\n"
        blocks.append(Block(page, start + 1, code, marker, argument))
        index = end + 1
    return blocks


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(workdir: Path) -> dict[str, str]:
    venv_bin = Path(sys.prefix) / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARDASHEV_")}
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(workdir / "home")  # nothing of the user's (ray, caches) is touched
    env["COLUMNS"] = "120"
    return env


def _prepare(workdir: Path) -> None:
    (workdir / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    (workdir / "bench").symlink_to(ROOT / "bench", target_is_directory=True)
    (workdir / "home").mkdir()


def _wait_healthy(url: str, process: subprocess.Popen, deadline_s: float) -> str | None:
    """None once ``url/v1/health`` answers 200; else why not."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"the server exited with status {process.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/v1/health", timeout=2) as response:
                if response.status == 200:
                    return None
        except OSError:
            pass
        time.sleep(0.3)
    return f"no answer from {url}/v1/health within {deadline_s} s"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class PageRun:
    """Runs one page's blocks in one directory; holds the page's server while it runs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = _environment(workdir)
        self.server: subprocess.Popen | None = None
        self.server_log = workdir / "doc-test-server.log"

    def _fail(self, block: Block, why: str, output: str, code: str | None = None) -> None:
        shown = output if len(output) < 6000 else "…" + output[-6000:]
        text = f"{block.where}: {why}\n--- block ---\n{code or block.code}--- output ---\n{shown}"
        pytest.fail(text, pytrace=False)

    def _ensure_server(self, block: Block) -> None:
        if self.server is not None:
            return
        port = _free_port()
        command = [
            str(Path(sys.prefix) / "bin" / "kardashev"),
            "serve",
            "--dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(self.workdir / "doc-test-server-data"),
        ]
        log = self.server_log.open("wb")
        self.server = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        why = _wait_healthy(url, self.server, SERVER_START_TIMEOUT_S)
        if why is not None:
            log_text = self.server_log.read_text(errors="replace")
            self._fail(block, f"the test's server did not start: {why}", log_text)
        self.env["KARDASHEV_URL"] = url

    def run(self, block: Block) -> None:
        if block.marker == "skip":
            assert block.argument, f"{block.where}: a skip marker needs a reason"
            return
        if block.marker == "server":
            self._ensure_server(block)
        if block.marker == "background":
            self._background(block)
            return
        code = block.argument + "\n" if block.marker == "quick" else block.code
        assert code.strip(), f"{block.where}: empty block or quick command"
        try:
            result = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", code],
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=BLOCK_TIMEOUT_S,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.output or b"").decode(errors="replace")
            self._fail(block, f"still running after {BLOCK_TIMEOUT_S} s", output, code)
            return
        if result.returncode != 0:
            output = result.stdout.decode(errors="replace")
            self._fail(block, f"exit status {result.returncode}", output, code)

    def _background(self, block: Block) -> None:
        assert "--port 8000" in block.code, f"{block.where}: a background block serves on --port 8000"
        port = _free_port()
        code = block.code.replace("--port 8000", f"--port {port}")
        log_path = self.workdir / f"doc-test-background-{block.line}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                ["bash", "-e", "-o", "pipefail", "-c", code],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                why = _wait_healthy(f"http://127.0.0.1:{port}", process, SERVER_START_TIMEOUT_S)
            finally:
                _stop(process)
        if why is not None:
            self._fail(block, why, log_path.read_text(errors="replace"), code)

    def close(self) -> None:
        if self.server is not None:
            _stop(self.server)


def test_every_page_is_found_and_blocks_are_well_formed():
    assert (ROOT / "README.md") in PAGES and len(PAGES) > 5
    readme = bash_blocks(ROOT / "README.md")
    setup = [b for b in readme if "pip install" in b.code]
    assert [b.marker for b in setup] == ["quick", "skip"], "the README's two set-up commands carry markers"
    for page in PAGES:
        text = page.read_text("utf-8").splitlines()
        for number, line in enumerate(text, start=1):
            if "doc-test:" in line:
                assert MARKER.match(line.strip()), f"{page.name}:{number}: unknown doc-test marker {line!r}"
                assert number < len(text) and text[number].strip() == "```bash", (
                    f"{page.name}:{number}: a doc-test marker must be on the line just before a ```bash fence"
                )


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if bash_blocks(p)], ids=lambda p: p.name)
def test_bash_blocks_run_as_written(page: Path, tmp_path: Path):
    _prepare(tmp_path)
    run = PageRun(tmp_path)
    try:
        for block in bash_blocks(page):
            run.run(block)
    finally:
        run.close()
