"""The journey's custom search attributes: what a supervisor filters journeys by
in the Temporal UI (`Specialist = "es-1" AND Phase = "job_search"`).

`SEARCH_ATTRIBUTES` is the one list: the dev server's flags, the test server's
registration (`temporal_client`), docker-compose's set-up step and the README
are derived from it or checked against it. A workflow that sets an attribute the
server does not know fails its task, and retries it for ever: every place that
starts a server registers them all first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from rules import calendar
from rules import journey as rules
from rules.due import OPEN

# The specialist's id.
SPECIALIST = SearchAttributeKey.for_keyword("Specialist")
# The id of the specialist's supervisor; absent when the specialist has none.
TEAM = SearchAttributeKey.for_keyword("Team")
# `rules.journey.phase`: referred, job_search, job_pending, working, step_down, closed.
PHASE = SearchAttributeKey.for_keyword("Phase")
IN_OUTREACH = SearchAttributeKey.for_bool("InOutreach")
# The earliest due day among the journey's open due contacts, as the instant that
# day begins in the consumer's zone; absent when nothing is open.
NEXT_DUE = SearchAttributeKey.for_datetime("NextDue")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    SPECIALIST,
    TEAM,
    PHASE,
    IN_OUTREACH,
    NEXT_DUE,
)


def type_name(key: SearchAttributeKey[Any]) -> str:
    """The attribute's type as the `temporal` CLI spells it (Keyword, Bool, Datetime)."""
    return "".join(word.capitalize() for word in key.indexed_value_type.name.split("_"))


def dev_server_args() -> list[str]:
    """`temporal server start-dev` options that register every attribute (at each
    start: an existing database gets any attribute it lacks)."""
    args: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}={type_name(key)}"]
    return args


def journey_attributes(
    state: rules.JourneyState, team: str | None, now: datetime
) -> dict[SearchAttributeKey[Any], Any]:
    """What each attribute should say of the journey now; None for absent."""
    open_due = [dc.due for dc in state.due_contacts if dc.status == OPEN]
    next_due = (
        calendar.start_of_day(min(open_due), state.timezone).astimezone(UTC) if open_due else None
    )
    return {
        SPECIALIST: state.specialist_id,
        TEAM: team,
        PHASE: rules.phase(state, rules.today(state, now)),
        IN_OUTREACH: state.in_outreach,
        NEXT_DUE: next_due,
    }


def changes(
    current: TypedSearchAttributes, wanted: dict[SearchAttributeKey[Any], Any]
) -> list[SearchAttributeUpdate[Any]]:
    """The updates that make `current` say `wanted`; none for what already does,
    so that an unchanged journey adds nothing to its history."""
    updates: list[SearchAttributeUpdate[Any]] = []
    for key, value in wanted.items():
        if current.get(key) == value:
            continue
        updates.append(key.value_unset() if value is None else key.value_set(value))
    return updates
