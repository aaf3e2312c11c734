"""The workflow sandbox: which workflow code it checks, and what the one
workflow module it shares with the worker (`workflows.sweeps`) may do.

The sandbox refuses a workflow's non-deterministic calls (the wall clock,
randomness, I/O) only in modules it re-imports for each run. `workflows.sweeps`
is passed through for speed (worker.py), so this test keeps it to what cannot
go wrong: Temporal's workflow API and constants.
"""

from __future__ import annotations

import ast
import asyncio
import uuid
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker
from tests.workflows.wall_clock import ReadsTheWallClock
from workflows import journey, sweeps

SWEEPS_SOURCE = Path(sweeps.__file__)

# What workflows/sweeps.py may import, by module: the names it may take.
ALLOWED_IMPORTS = {
    "__future__": {"annotations"},
    "collections.abc": {"Callable"},
    "datetime": {"timedelta"},
    "temporalio": {"workflow"},
    "temporalio.common": {"RetryPolicy"},
    "activities.sweeps": None,  # the sweeps' activities and their input: any name
}
# What its code may call.
ALLOWED_CALLS = {"timedelta", "RetryPolicy", "_sweep", "workflow.execute_activity_method"}


def _called_name(call: ast.Call) -> str:
    return ast.unparse(call.func)


def test_the_shared_sweeps_module_only_imports_what_it_may() -> None:
    tree = ast.parse(SWEEPS_SOURCE.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.module or "", alias.name) for alias in node.names]
    assert found, "no imports found: the check reads the wrong file"
    for module, name in found:
        assert module in ALLOWED_IMPORTS, f"workflows/sweeps.py imports {module}"
        allowed = ALLOWED_IMPORTS[module]
        assert allowed is None or name in allowed, f"workflows/sweeps.py imports {module}.{name}"


def test_the_shared_sweeps_module_only_calls_the_workflow_api() -> None:
    tree = ast.parse(SWEEPS_SOURCE.read_text(encoding="utf-8"))
    calls = {
        _called_name(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and not _called_name(node).startswith("workflow.unsafe.")
    }
    # Decorators are not calls of the workflow's own; `workflow.defn` is one of them.
    assert "_sweep" in calls, "no calls found: the check reads the wrong file"
    assert calls <= ALLOWED_CALLS, f"workflows/sweeps.py calls {sorted(calls - ALLOWED_CALLS)}"


def test_the_journey_module_is_still_sandboxed() -> None:
    shared = set(worker._PASSTHROUGH)
    assert not {"workflows", journey.__name__} & shared


async def test_the_worker_sandbox_refuses_the_wall_clock(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The sandbox as the worker sets it up still refuses what a journey must
    never do (this test's module is re-imported, as the journey's is)."""
    queue = f"sandbox-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReadsTheWallClock],
        workflow_runner=worker._workflow_runner(),
    ):
        handle = await time_skipping_env.client.start_workflow(
            ReadsTheWallClock.run,
            id=f"wall-clock-{uuid.uuid4()}",
            task_queue=queue,
            execution_timeout=None,
        )
        # A refused call fails the workflow task (which Temporal retries): the
        # workflow never completes with a wall-clock time.
        failures: list[str] = []
        for _ in range(100):
            history = await handle.fetch_history()
            failures = [
                e.workflow_task_failed_event_attributes.failure.message
                for e in history.events
                if e.HasField("workflow_task_failed_event_attributes")
            ]
            if failures:
                break
            await asyncio.sleep(0.05)
        assert any("datetime.datetime.now" in message for message in failures), failures
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
