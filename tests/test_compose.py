"""docker-compose.yml, as far as it can be checked without a Docker engine: it is
valid against the official Compose specification (../shared/contracts), every
${VARIABLE} it uses has a value in the example env file, every dependency and
health condition points at a service that can meet it, every service the
README's Production section names exists, and its Temporal set-up step creates
the journeys' search attributes (run here against a dev server)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

from workflows.search import SEARCH_ATTRIBUTES, type_name

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_SPEC = ROOT.parent / "shared" / "contracts" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return loaded


def test_the_compose_file_is_valid_compose(compose: dict[str, Any]) -> None:
    spec = json.loads(COMPOSE_SPEC.read_text("utf-8"))
    errors = [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in jsonschema.Draft7Validator(spec).iter_errors(compose)
    ]
    assert errors == []


def test_the_checker_rejects_what_compose_would() -> None:
    spec = json.loads(COMPOSE_SPEC.read_text("utf-8"))
    bad = {"services": {"api": {"image": "x", "depends_on": {"db": {"condition": "soon"}}}}}
    assert list(jsonschema.Draft7Validator(spec).iter_errors(bad))


def test_every_variable_has_a_value_in_the_example_env_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)\}", text))
    example = (ROOT / "compose.env.example").read_text("utf-8")
    defined = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    assert used, "the compose file uses no variables: the check checks nothing"
    assert sorted(used - defined) == []


def test_dependencies_point_at_services_that_can_meet_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for needed, how in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on {needed}, which is not a service"
            assert needed != name, f"{name} depends on itself"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{needed} has no healthcheck"
    for long_running in ("postgresql", "temporal", "api"):
        assert "healthcheck" in services[long_running]
    assert "postgresql-data" in compose["volumes"]
    assert any(str(v).startswith("postgresql-data:") for v in services["postgresql"]["volumes"])


def test_every_service_the_readme_names_exists(compose: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE))
    assert named, "the README's Production section names no service"
    assert named == set(compose["services"])


def test_the_temporal_set_up_step_creates_every_search_attribute(compose: dict[str, Any]) -> None:
    command = "\n".join(compose["services"]["temporal-namespace"]["command"])
    created = re.findall(
        r"^temporal operator search-attribute create --namespace default "
        r"--name (\w+) --type (\w+)$",
        command,
        re.MULTILINE,
    )
    assert sorted(created) == sorted((key.name, type_name(key)) for key in SEARCH_ATTRIBUTES)
    # The app starts once they exist: a journey that sets an unknown one is stuck.
    for service in ("worker", "api", "scheduler"):
        waits_for = compose["services"][service]["depends_on"]["temporal-namespace"]
        assert waits_for == {"condition": "service_completed_successfully"}


async def test_the_temporal_set_up_step_works_and_can_run_again(
    compose: dict[str, Any], temporal_cli_path: Path
) -> None:
    """The step's script, run as the admin-tools image runs it (`sh -c`, the
    server in TEMPORAL_ADDRESS), against a dev server that knows none of the
    attributes; then again, as after `docker compose up` on a set-up cluster."""
    script = compose["services"]["temporal-namespace"]["command"][0].replace("$$", "$")
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path)
    ) as env:
        environment = {
            **os.environ,
            "PATH": f"{temporal_cli_path.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        }
        for _ in range(2):
            result = subprocess.run(
                ["/bin/sh", "-c", script],
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stdout + result.stderr

        listed = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        custom = {
            name: SearchAttributeIndexedValueType(value).name
            for name, value in listed.custom_attributes.items()
        }
        assert custom == {key.name: key.indexed_value_type.name for key in SEARCH_ATTRIBUTES}
