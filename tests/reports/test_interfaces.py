"""`ips report` and `GET /reports/...` on the agency of conftest.py: the same
figures as JSON, CSV and a table, scoped to whoever asks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from api.app import create_app
from api.webhooks import WebhookSettings
from cli.main import app
from rules.policy import Policy
from service import access
from service.journeys import Services
from store import Store

NOW = datetime(2041, 3, 20, tzinfo=UTC)
PERIOD = ("--from", "2041-03-04", "--to", "2041-03-17")


def tokens(store: Store) -> dict[str, str]:
    found = {}
    for user, role, person in (
        ("admin", "admin", None),
        ("u-sup-1", "supervisor", "sup-1"),
        ("u-es-2", "specialist", "es-2"),
    ):
        access.add_user(store, user_id=user, name=user, role=role, person_id=person, now=NOW)
        found[user], _ = access.create_token(store, user_id=user, now=NOW, days=3660)
    return found


def ips(*args: str, token: str | None = None) -> Result:
    result = CliRunner().invoke(app, ["report", *args], env={"IPS_TOKEN": token or ""})
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def cli(agency: Store, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("IPS_POLICY_FILE", raising=False)
    monkeypatch.setenv("IPS_DATABASE_URL", database_url)
    return tokens(agency)


def figures(output: str) -> dict[str, dict[str, object]]:
    return {f["key"]: f for f in json.loads(output)["figures"]}


def test_cli_json_scoped_to_who_asks(cli: dict[str, str]) -> None:
    # The operator: the agency (13 on the caseload / 2.5 FTE).
    result = ips("fidelity", *PERIOD, "--json")
    assert result.exit_code == 0, result.output
    caseload = figures(result.stdout)["caseload_per_fte"]
    assert (caseload["numerator"], caseload["denominator"], caseload["value"]) == (13, 2.5, 5.2)
    # sup-1: their team, without asking (12 / 1.5).
    result = ips("fidelity", *PERIOD, "--json", token=cli["u-sup-1"])
    body = json.loads(result.stdout)
    assert body["scope"] == "team of sup-1"
    assert figures(result.stdout)["caseload_per_fte"]["value"] == 8.0
    assert figures(result.stdout)["caseload_per_fte"]["ips25"]["label"] == (
        "Staffing 1: Caseload size"
    )
    # es-2: their own, 11 / 0.5.
    result = ips("fidelity", *PERIOD, "--json", token=cli["u-es-2"])
    assert json.loads(result.stdout)["scope"] == "specialist es-2"
    assert figures(result.stdout)["caseload_per_fte"]["value"] == 22.0
    # Another team is not there for a supervisor, nor any team for a specialist.
    for token in (cli["u-sup-1"], cli["u-es-2"]):
        refused = ips("fidelity", *PERIOD, "--team", "sup-2", token=token)
        assert (refused.exit_code, refused.stdout) == (2, "")
        assert "no supervisor 'sup-2'" in refused.stderr
    # The admin picks a team: sup-2's es-3, 1 / 1.0.
    result = ips("fidelity", *PERIOD, "--team", "sup-2", "--json", token=cli["admin"])
    assert figures(result.stdout)["caseload_per_fte"]["value"] == 1.0


def test_cli_table_and_csv(cli: dict[str, str]) -> None:
    result = ips("fidelity", *PERIOD, "--team", "sup-1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Fidelity, team of sup-1, 2041-03-04 to 2041-03-17"
    row = next(line.split() for line in lines if line.startswith(" caseload_per_fte"))
    assert row[:6] == ["caseload_per_fte", "12", "1.5", "8", "20", "yes"]
    es2 = next(line.split() for line in lines if line.split()[:1] == ["es-2"])
    assert es2 == ["es-2", "11", "0.5", "22", "20", "no"]
    assert any("Staffing 1: Caseload size" in line for line in lines)

    result = ips("fidelity", *PERIOD, "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    first = rows[0]
    assert list(first) == [
        "key", "of", "title", "ips25_item", "numerator", "numerator_counts",
        "denominator", "denominator_counts", "value", "unit", "target", "meets",
    ]  # fmt: skip
    assert (first["key"], first["of"], first["numerator"], first["denominator"]) == (
        "caseload_per_fte", "", "13", "2.5",
    )  # fmt: skip
    pre = next(r for r in rows if r["of"] == "pre_start_contact")
    assert (pre["numerator"], pre["denominator"], pre["value"]) == ("0", "0", "")

    result = ips("outcomes", "--quarter", "2041Q1", "--team", "sup-1", "--csv")
    assert result.stdout.splitlines() == [
        "quarter,start,end,employed,active,rate,average_benchmark,excellent_benchmark",
        f"2041Q1,2041-01-01,2041-03-31,3,14,{3 / 14},0.41,0.5",
    ]
    result = ips("outcomes", "--quarter", "2041Q1", "--team", "sup-1")
    assert "rate:" in result.stdout and "21.4%" in result.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("fidelity", "--from", "2041-03-32", "--to", "2041-03-17"), "--from"),
        (("fidelity", "--from", "2041-03-17", "--to", "2041-03-04"), "--to"),
        (("fidelity", "--from", "2041-03-04"), "--to"),
        (("outcomes", "--quarter", "2041Q5"), "--quarter"),
        (("fidelity", *PERIOD, "--json", "--csv"), "--csv"),
    ],
)
def test_cli_bad_input_names_the_option(
    cli: dict[str, str], args: tuple[str, ...], option: str
) -> None:
    result = ips(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert option in result.stderr


@pytest.fixture
async def http(agency: Store) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    async def no_temporal() -> object:
        raise AssertionError("reports need no Temporal")

    services = Services(store=agency, connect=no_temporal, policy=Policy(), now=lambda: NOW)  # type: ignore[arg-type]
    headers = {u: {"Authorization": f"Bearer {t}"} for u, t in tokens(agency).items()}
    transport = httpx.ASGITransport(app=create_app(services, WebhookSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://ips") as client:
        yield client, headers


FROM_TO = {"from": "2041-03-04", "to": "2041-03-17"}


async def test_api_json_csv_and_scope(
    http: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = http
    answer = await client.get("/reports/fidelity", params=FROM_TO, headers=headers["u-sup-1"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == "team of sup-1"
    f = {x["key"]: x for x in body["figures"]}
    assert (
        f["employer_contacts_per_week"]["numerator"],
        f["employer_contacts_per_week"]["value"],
    ) == (15, 3.75)
    assert body["employer_contacts_by_week"]["2041-W10"] == {"es-1": 2, "es-2": 6}

    answer = await client.get(
        "/reports/fidelity", params=FROM_TO, headers={**headers["u-es-2"], "Accept": "text/csv"}
    )
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["of"] for r in rows if r["key"] == "caseload_per_fte"} == {"", "es-2"}

    answer = await client.get(
        "/reports/outcomes",
        params={"quarter": "2041Q1", "format": "csv"},
        headers=headers["u-sup-1"],
    )
    assert answer.text.splitlines()[1] == f"2041Q1,2041-01-01,2041-03-31,3,14,{3 / 14},0.41,0.5"
    answer = await client.get(
        "/reports/outcomes", params={"quarter": "2041Q1"}, headers=headers["admin"]
    )
    # The agency: sup-1's 14 and c-40; still the same 3 working.
    assert (answer.json()["active"], answer.json()["employed"]) == (15, 3)

    answer = await client.get(
        "/reports/outcomes",
        params={"quarter": "2041Q1", "team": "sup-2"},
        headers=headers["u-sup-1"],
    )
    assert answer.status_code == 404
    assert (await client.get("/reports/outcomes", params={"quarter": "2041Q1"})).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/reports/outcomes", {"quarter": "2041q1"}, "quarter"),
        ("/reports/outcomes", {}, "quarter"),
        ("/reports/fidelity", {"from": "2041-03-17", "to": "2041-03-04"}, "to"),
        ("/reports/fidelity", {"from": "yesterday", "to": "2041-03-04"}, "from"),
        ("/reports/fidelity", {**FROM_TO, "format": "xml"}, "format"),
    ],
)
async def test_api_errors_name_the_field(
    http: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    client, headers = http
    answer = await client.get(path, params=params, headers=headers["admin"])
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field


async def test_api_html_report_is_one_page_with_the_teams_charts(
    http: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = http
    answer = await client.get("/reports/html", params=FROM_TO, headers=headers["u-sup-1"])

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    for chart in ("chart-employment-rate", "chart-employer-contacts", "chart-follow-along"):
        assert f'id="{chart}"' in page
    # sup-1's team only: es-3 (sup-2's) is not drawn.
    assert 'data-label="es-1"' in page and 'data-label="es-3"' not in page
    assert "://" not in page
    other = await client.get(
        "/reports/html", params=FROM_TO | {"team": "sup-2"}, headers=headers["u-sup-1"]
    )
    assert other.status_code == 404


def test_cli_html_report_writes_the_file(cli: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "q1.html"
    result = ips("html", *PERIOD, "--out", str(out), token=cli["u-sup-1"])

    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert 'id="chart-employer-contacts"' in page and "Staffing 1: Caseload size" in page
    refused = ips("html", *PERIOD, "--out", str(tmp_path / "missing" / "x.html"))
    assert refused.exit_code == 2 and "--out" in refused.output


async def test_the_html_report_names_the_agency_of_ips_agency_name(
    agency: Store, cli: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "Riverside Community Services Inc"
    monkeypatch.setenv("IPS_AGENCY_NAME", name)
    out = tmp_path / "q1.html"
    assert ips("html", *PERIOD, "--out", str(out), token=cli["u-sup-1"]).exit_code == 0

    async def no_temporal() -> object:
        raise AssertionError("reports need no Temporal")

    services = Services(store=agency, connect=no_temporal, policy=Policy(), now=lambda: NOW)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=create_app(services, WebhookSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://ips") as client:
        answer = await client.get(
            "/reports/html",
            params=FROM_TO,
            headers={"Authorization": f"Bearer {cli['u-sup-1']}"},
        )

    assert answer.status_code == 200, answer.text
    for page in (out.read_text(encoding="utf-8"), answer.text):
        assert f"IPS supported employment report: {name}, " in page
