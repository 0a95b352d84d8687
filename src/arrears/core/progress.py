"""Progress and result output for long commands (import, run, bench).

Every step is logged (to stderr, with a timestamp); on a terminal a live status line with the
elapsed time is shown as well (rich). With ``--json`` stdout carries nothing but the final JSON
object and stderr only warnings and errors.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import contextmanager

from rich.console import Console

log = logging.getLogger("arrears.ops")


class Reporter:
    def __init__(self, json_mode: bool, name: str, out=None) -> None:
        self.out = out if out is not None else sys.stdout
        self.json_mode = json_mode
        self.name = name
        self.t0 = time.perf_counter()
        self.console = Console(stderr=True) if sys.stderr.isatty() and not json_mode else None
        self._status = None

    def step(self, message: str) -> None:
        elapsed = time.perf_counter() - self.t0
        log.info("%s: %s", self.name, message)
        if self._status is not None:
            self._status.update(f"[bold]{self.name}[/]: {message} ({elapsed:.1f}s)")

    @contextmanager
    def running(self):
        """Show a live status line on a terminal; with ``--json`` keep stderr quiet but warnings."""
        arrears_log = logging.getLogger("arrears")
        level = arrears_log.level
        if self.json_mode:
            arrears_log.setLevel(logging.WARNING)
        try:
            with self._live():
                yield self
        finally:
            arrears_log.setLevel(level)

    @contextmanager
    def _live(self):
        if self.console is not None:
            with self.console.status(f"[bold]{self.name}[/]") as status:
                self._status = status
                try:
                    yield self
                finally:
                    self._status = None
        else:
            yield self

    def result(self, payload: dict, human: str | None = None) -> None:
        if self.json_mode:
            self.out.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
        else:
            self.out.write((human or json.dumps(payload, ensure_ascii=False, indent=2, default=str)) + "\n")
        self.out.flush()

    def failure(self, message: str, problems: list[dict] | None = None) -> None:
        """With ``--json``, the failure as one JSON object on stdout (the command then exits 1)."""
        if self.json_mode:
            payload = {"ok": False, "error": message}
            if problems is not None:
                payload["problems"] = problems
            self.out.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
            self.out.flush()
