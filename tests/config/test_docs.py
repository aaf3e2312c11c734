"""The documented settings are the settings: README's Configuration table is the
one `config/settings.py` makes, and the example env files name only real ones."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Set it to write the table into README.md (then review the diff).
REFRESH = "IPS_REFRESH_README"
HEADER = "| variable | what | default |"
VARIABLE = re.compile(r"\bIPS_[A-Z0-9_]*[A-Z0-9]\b(?!_?\*)")
# Read by the test suite, never by the app.
TEST_VARIABLES = {"IPS_TEST_POSTGRES_URL", "IPS_REFRESH_HISTORIES", "IPS_KEEP_SCREENSHOT", REFRESH}


def configuration_table() -> list[str]:
    rows = [HEADER, "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        what, _, unset = (field.description or "").partition(". Unset: ")
        default = f"`{field.default}`" if field.default is not None else unset or "unset"
        rows.append(f"| `{Settings.variable(name)}` | {_cell(what)} | {_cell(default)} |")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _readme_table(lines: list[str]) -> tuple[int, int]:
    start = lines.index("## Configuration")
    first = lines.index(HEADER, start)
    last = first
    while last < len(lines) and lines[last].startswith("|"):
        last += 1
    return first, last


def test_the_readme_table_is_the_settings() -> None:
    lines = README.read_text("utf-8").splitlines()
    first, last = _readme_table(lines)
    expected = configuration_table()
    if os.environ.get(REFRESH) and lines[first:last] != expected:
        lines[first:last] = expected
        README.write_text("\n".join(lines) + "\n", "utf-8")
    assert lines[first:last] == expected, (
        f"README's Configuration table differs from config/settings.py: run this test with "
        f"{REFRESH}=1 to write it, then review the diff"
    )


def test_every_variable_the_readme_names_exists() -> None:
    named = set(VARIABLE.findall(README.read_text("utf-8")))
    assert named - TEST_VARIABLES <= _settings_variables()


def test_the_example_env_file_names_only_settings() -> None:
    example = (ROOT / "compose.env.example").read_text("utf-8")
    named = set(VARIABLE.findall(example))

    assert named, "compose.env.example names no IPS_* variable"
    assert named <= _settings_variables()


def test_docker_compose_sets_only_settings() -> None:
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    yaml.safe_load(text)  # a parsable file, so the names below are its own
    assert set(VARIABLE.findall(text)) <= _settings_variables()


def test_the_code_names_only_settings() -> None:
    """No IPS_* variable is read anywhere but through the settings: any name the
    app's code spells (in an error message, say) is one of them."""
    named: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"tests", ".venv", "var", "out", "build"}:
            continue
        for variable in VARIABLE.findall(path.read_text("utf-8")):
            named.setdefault(variable, set()).add(str(relative))
    unknown = {v: sorted(paths) for v, paths in named.items() if v not in _settings_variables()}
    assert not unknown
    # The benchmarks, like the tests, hand the processes they start an
    # environment of their own (IPS_ variables the settings name).
    reads = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0]
        not in {"tests", "bench", ".venv", "config", "var", "out"}
        and re.search(r"os\.environ\b|getenv\(", path.read_text("utf-8"))
    ]
    assert reads == []


def _settings_variables() -> set[str]:
    return {Settings.variable(name) for name in Settings.model_fields}
