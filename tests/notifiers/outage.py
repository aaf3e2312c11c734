"""Provider outages the fakes can play: a storm of error answers for a while."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Phase:
    """Every valid request of this phase is answered `status` (with Twilio's
    error `code`, when given) for `seconds`."""

    status: int
    seconds: float
    code: int | None = None


@dataclass
class Storm:
    """Phases one after the other, from the first request that meets the storm;
    after the last phase the provider has recovered."""

    phases: tuple[Phase, ...]
    started: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> Phase | None:
        """The phase the provider is in now; None once it has recovered."""
        now = time.monotonic()
        with self._lock:
            if self.started is None:
                self.started = now
            elapsed = now - self.started
        for phase in self.phases:
            if elapsed < phase.seconds:
                return phase
            elapsed -= phase.seconds
        return None
