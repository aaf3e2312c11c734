"""A workflow that reads the wall clock, which a journey must never do
(tests/workflows/test_sandbox.py shows the worker's sandbox refuses it)."""

from datetime import datetime

from temporalio import workflow


@workflow.defn(name="ReadsTheWallClock")
class ReadsTheWallClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()
