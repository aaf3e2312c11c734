"""The settings of IPS journeys (IPS_* variables and an optional env file).

`config.check`, which judges them for `ips config check`, is not re-exported:
it imports the providers and the API, which import this package.
"""

from config.settings import (
    DEFAULT_APP_URL,
    DEFAULT_DATABASE_URL,
    DEFAULT_TEMPORAL_ADDRESS,
    ENV_FILE_VARIABLE,
    LoadedSettings,
    Settings,
    SettingsError,
    load_settings,
    load_with_origins,
)

__all__ = [
    "DEFAULT_APP_URL",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_TEMPORAL_ADDRESS",
    "ENV_FILE_VARIABLE",
    "LoadedSettings",
    "Settings",
    "SettingsError",
    "load_settings",
    "load_with_origins",
]
