"""Replay: the sweep workflows stay deterministic for histories already recorded.

Each sweep's history is saved under tests/workflows/histories/sweep_<sweep>.json
(refresh with IPS_REFRESH_HISTORIES=1, as tests/workflows/test_replay.py says)
and replayed by the current code; a fresh run's history is replayed too.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHistory

from activities.sweeps import SWEEPS, sweep_id
from tests.sweeps.conftest import Sweeps
from tests.workflows.conftest import HISTORIES_DIR, replay, save_history

AT = datetime(2041, 3, 11, 7, 30, tzinfo=ZoneInfo("America/New_York"))
RECIPIENTS = {
    "daily_digest": "es-1",
    "weekly_digest": "sup-1",
    "employer_contacts_nudge": "es-1",
    "caseload": "sup-1",
}


async def _replay(sweeps: Sweeps, histories: list[WorkflowHistory]) -> dict[str, Exception]:
    return await replay(sweeps.worker, histories)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("sweep", SWEEPS)
async def test_a_sweeps_history_replays(sweeps: Sweeps, sweep: str) -> None:
    h = sweeps
    h.consumer("c-1", "Alex Smith", "es-1", referred=AT.replace(month=2))
    await h.run(sweep, RECIPIENTS[sweep], AT)
    workflow_id = sweep_id(
        sweep,
        RECIPIENTS[sweep],
        "2041-W11" if "week" in sweep or "nudge" in sweep else "2041-03-11",
    )
    history = await h.env.client.get_workflow_handle(workflow_id).fetch_history()
    save_history(f"sweep_{sweep}", history)

    saved = HISTORIES_DIR / f"sweep_{sweep}.json"
    histories = [history, WorkflowHistory.from_json(workflow_id, saved.read_text(encoding="utf-8"))]
    assert await _replay(h, histories) == {}
