"""The journey workflow's input, in a module the sandbox passes through.

A class defined in `workflows.journey`, which the sandbox re-imports for every
run, is a new class in each: its validation schema would be built again for
every journey (`codec.payloads`). Defined here, it is one class for the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.journey import JourneyState
from rules.policy import Policy


@dataclass
class JourneyInput:
    consumer_id: str
    policy: Policy
    # Set when a run continues as new: the journey so far.
    state: JourneyState | None = None
