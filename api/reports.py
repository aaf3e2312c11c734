"""Reports (SPEC §10): `GET /reports/fidelity` and `GET /reports/outcomes`, as
JSON, or CSV with `?format=csv` or `Accept: text/csv`. What each fidelity
figure counts is in `reports.fidelity`; whose figures, in `service.reports`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import ActorDep, ServicesDep
from api.errors import ERROR_RESPONSES
from reports import tables
from service import reports
from service.people import Id

router = APIRouter(responses=ERROR_RESPONSES, tags=["reports"])

CSV = "text/csv; charset=utf-8"
TEAM_HELP = (
    "Only this supervisor's team (the supervisor's id). A specialist always gets their "
    "own figures, a supervisor their team's; an admin the agency's without it."
)
FormatQuery = Annotated[
    Literal["json", "csv"] | None,
    Query(description="csv for CSV with a header row; JSON otherwise (or Accept: text/csv)."),
]
TeamQuery = Annotated[Id | None, Query(description=TEAM_HELP)]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


class Ips25ItemOut(BaseModel):
    section: str = Field(description="Staffing, Organization or Services.")
    number: int
    title: str
    label: str = Field(description='As printed: "Services 6: Job development: ...".')


class FigureOut(BaseModel):
    key: str
    title: str
    ips25: Ips25ItemOut
    numerator: float
    numerator_counts: str = Field(description="What the numerator counts.")
    denominator: float
    denominator_counts: str = Field(description="What the denominator counts.")
    value: float | None = Field(description="numerator / denominator; null when it is 0.")
    unit: str
    target: float | None
    meets: bool | None
    breakdown: dict[str, FigureOut] = Field(
        description="The same figure per specialist (by id) or per rule."
    )


class FidelityOut(BaseModel):
    start: date
    end: date
    scope: str = Field(description='"agency", "team of <supervisor>" or "specialist <id>".')
    figures: list[FigureOut]
    employer_contacts_by_week: dict[str, dict[str, int]] = Field(
        description="Face-to-face employer contacts per ISO week (2027-W03) and specialist."
    )
    on_time_by_rule: dict[str, FigureOut]


class OutcomesOut(BaseModel):
    quarter: str
    start: date
    end: date
    employed: int = Field(description="Consumers who worked a competitive job in the quarter.")
    active: int = Field(description="Consumers on the caseload in the quarter.")
    rate: float | None = Field(description="employed / active; null with no active caseload.")
    average_benchmark: float
    excellent_benchmark: float
    employed_consumers: list[str]
    active_consumers: list[str]


_CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


FromQuery = Annotated[date, Query(alias="from", description="The first day counted.")]
ToQuery = Annotated[date, Query(alias="to", description="The last day counted (included).")]


def _wants_csv(format: str | None, accept: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return accept is not None and "text/csv" in accept.lower()


@router.get(
    "/reports/fidelity",
    response_model=FidelityOut,
    responses=_CSV_ANSWER,
    summary="The fidelity figures of a period, each with its numerator, denominator and "
    "IPS-25 item",
)
def fidelity(
    start: FromQuery,
    end: ToQuery,
    services: ServicesDep,
    actor: ActorDep,
    team: TeamQuery = None,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Any:
    report = reports.fidelity(services.store, actor, start, end, team)
    if _wants_csv(format, accept):
        rows = tables.fidelity_rows(report)
        return Response(tables.to_csv(tables.FIDELITY_COLUMNS, rows), media_type=CSV)
    return tables.fidelity_json(report)


@router.get(
    "/reports/outcomes",
    response_model=OutcomesOut,
    responses=_CSV_ANSWER,
    summary="The quarterly employment rate, against the IPS benchmarks",
)
def outcomes(
    quarter: Annotated[str, Query(description="The quarter, like 2027Q1.", max_length=16)],
    services: ServicesDep,
    actor: ActorDep,
    team: TeamQuery = None,
    format: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Any:
    report = reports.outcomes(services.store, actor, quarter, team)
    if _wants_csv(format, accept):
        rows = tables.outcomes_rows(report)
        return Response(tables.to_csv(tables.OUTCOMES_COLUMNS, rows), media_type=CSV)
    return tables.outcomes_json(report)


@router.get(
    "/reports/html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "The report as one page"}},
    summary="The supervisor's report as one self-contained HTML page, with charts",
)
def html(
    request: Request,
    start: FromQuery,
    end: ToQuery,
    services: ServicesDep,
    actor: ActorDep,
    team: TeamQuery = None,
) -> HTMLResponse:
    agency_name: str | None = request.app.state.agency_name
    page = reports.html(
        services.store,
        actor,
        start,
        end,
        team,
        now=services.now(),
        agency=agency_name,
    )
    return HTMLResponse(page)
