"""docker-compose.yml, as far as it can be checked without a Docker engine: it is
valid against the official Compose specification (../shared/contracts), every
${VARIABLE} it uses has a value in the example env file, every dependency and
health condition points at a service that can meet it, and every service the
README's Production section names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

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
