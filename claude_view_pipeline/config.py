"""Settings from the environment (README, "Settings"), overridable by CLI flags.

Everything that reads os.environ lives here, so the rest of the core takes plain values.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .sources import ALL_SOURCES, Source

# the project's own settings start with one of these; each source adds the variables its
# roots are read from (SourceSpec.settings)
SETTING_PREFIXES = ("CLAUDE_VIEW_", "ENABLE_")


def is_setting(name: str) -> bool:
    """Whether an environment variable is one this project reads (its own, or a source's)."""
    return name.startswith(SETTING_PREFIXES) or name in {v for s in ALL_SOURCES for v in s.spec.settings}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ConfigError(ValueError):
    """A setting has a value we refuse to guess about (exit status 2 in the CLI)."""


# the days a usage week may begin on, in DuckDB's dayofweek order (0 = Sunday)
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")

# Every setting the project reads, besides each source's own directory variables
# (SourceSpec.settings) and switch (ENABLE_<SOURCE>_SOURCE). docs/configuration.md gives each
# one's default and meaning; a test keeps the two lists equal.
SETTINGS = (
    "CLAUDE_VIEW_DB",
    "XDG_DATA_HOME",
    "CLAUDE_VIEW_WORKERS",
    "CLAUDE_VIEW_LOCK_TIMEOUT",
    "CLAUDE_VIEW_DUCKDB_MEMORY",
    "CLAUDE_VIEW_METRICS_FILE",
    "CLAUDE_VIEW_LOG_FORMAT",
    "CLAUDE_VIEW_SENSOR_INTERVAL",
    "CLAUDE_VIEW_TIMEZONE",
    "CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT",
    "CLAUDE_VIEW_TEAM_CATALOG",
    "CLAUDE_VIEW_TEAM_DATA",
    "CLAUDE_VIEW_SERVICES_DIR",
    "CLAUDE_VIEW_DAGSTER_PG_URL",
    "DAGSTER_HOME",
    "CLAUDE_VIEW_PAUSE_AT",
    "CLAUDE_VIEW_PAUSE_FILE",
    "CLAUDE_VIEW_FAIL_AT",
)


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def log_format(env: Mapping[str, str] | None = None) -> str:
    """``human`` or ``json`` (CLAUDE_VIEW_LOG_FORMAT)."""
    fmt = (_env(env).get("CLAUDE_VIEW_LOG_FORMAT") or "human").strip().lower()
    if fmt not in ("human", "json"):
        raise ConfigError(f"CLAUDE_VIEW_LOG_FORMAT={fmt!r}: use one of human, json")
    return fmt


def metrics_file(env: Mapping[str, str] | None = None) -> Path | None:
    """Where ``index`` writes its Prometheus textfile, when set (CLAUDE_VIEW_METRICS_FILE)."""
    raw = _env(env).get("CLAUDE_VIEW_METRICS_FILE", "").strip()
    return Path(raw).expanduser() if raw else None


def services_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where ``services up`` keeps its data (CLAUDE_VIEW_SERVICES_DIR, else ./.services)."""
    raw = _env(env).get("CLAUDE_VIEW_SERVICES_DIR", "").strip()
    return (Path(raw).expanduser() if raw else Path.cwd() / ".services").absolute()


def team_store(env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The team store's catalog URL and data location, as set (either may be unset)."""
    e = _env(env)
    return e.get("CLAUDE_VIEW_TEAM_CATALOG") or None, e.get("CLAUDE_VIEW_TEAM_DATA") or None


def dagster_home(env: Mapping[str, str] | None = None) -> str | None:
    """The Dagster instance the command line records its runs in, when set."""
    return _env(env).get("DAGSTER_HOME") or None


def pause_at(env: Mapping[str, str] | None = None) -> tuple[str | None, str | None, str | None]:
    """Tests only: the point where a run stops, the file it writes there, and the point where
    a run fails instead."""
    e = _env(env)
    return e.get("CLAUDE_VIEW_PAUSE_AT") or None, e.get("CLAUDE_VIEW_PAUSE_FILE") or None, e.get("CLAUDE_VIEW_FAIL_AT") or None


def environ_without_settings(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment less the project's settings and DAGSTER_HOME, plus extra:
    what a subprocess gets when a test or benchmark must not see the user's own sessions."""
    env = {k: v for k, v in os.environ.items() if not is_setting(k) and k != "DAGSTER_HOME"}
    env.update(extra or {})
    return env


# DuckDB's memory for index connections: bounded by default (the load of any corpus we have
# measured fits, to 20,000 sessions per source); a write that still runs out is retried once
# with RETRY_DUCKDB_MEMORY (store.db)
DEFAULT_DUCKDB_MEMORY = "128MB"
RETRY_DUCKDB_MEMORY = "2GB"
_MIN_DUCKDB_MEMORY, _MAX_DUCKDB_MEMORY = 32 * 1024**2, 1024 * 1024**4
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def duckdb_memory(env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """(memory limit, whether it is the default) from CLAUDE_VIEW_DUCKDB_MEMORY: a size such as
    512MB or 2GB, checked here so that nothing but a size ever reaches DuckDB."""
    raw = (os.environ if env is None else env).get("CLAUDE_VIEW_DUCKDB_MEMORY", "").strip()
    if not raw:
        return DEFAULT_DUCKDB_MEMORY, True
    m = _SIZE.match(raw)
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"CLAUDE_VIEW_DUCKDB_MEMORY={raw!r} is not a size; use a number and a unit, e.g. 512MB or 2GB")
    # DuckDB needs some room to work at all, and refuses a size past what it can count
    if not _MIN_DUCKDB_MEMORY <= _bytes(raw) <= _MAX_DUCKDB_MEMORY:
        raise ConfigError(f"CLAUDE_VIEW_DUCKDB_MEMORY={raw!r} is out of range; use a size from 32MB to 1024TB")
    return f"{m.group(1)}{m.group(2)}", False


def max_line_bytes(env: Mapping[str, str] | None = None) -> int:
    """The longest line a parser reads: half the memory budget (reading a line and decoding it
    holds it twice), the budget being CLAUDE_VIEW_DUCKDB_MEMORY or, under the default, the
    size a write is retried with. A file with a longer line is rejected on its own."""
    limit, default = duckdb_memory(env)
    return _bytes(RETRY_DUCKDB_MEMORY if default else limit) // 2


def _bytes(size: str) -> int:
    m = _SIZE.match(size)
    return int(float(m.group(1)) * 1024 ** ("KMGT".index(m.group(2).upper()[0]) + 1))


def _number(env: Mapping[str, str], name: str, default: float, kind: type, minimum: float, what: str) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    # float("nan") and float("inf") parse, and are no number of seconds either
    if value is None or value != value or value in (float("inf"), float("-inf")) or value < minimum:
        raise ConfigError(f"{name}={raw!r} is not {what}; unset it for the default ({default:g})")
    return value


def lock_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds to wait for another writer of the index (CLAUDE_VIEW_LOCK_TIMEOUT)."""
    return _number(os.environ if env is None else env, "CLAUDE_VIEW_LOCK_TIMEOUT", 120.0, float, 0, "a number of seconds (0 or more)")


def parse_workers(env: Mapping[str, str] | None = None) -> int:
    """Parser processes for large runs (CLAUDE_VIEW_WORKERS; 0 = one per core)."""
    n = int(_number(os.environ if env is None else env, "CLAUDE_VIEW_WORKERS", 0, int, 0, "a whole number of processes (0 = one per core)"))
    return n or (os.cpu_count() or 1)


def sensor_interval(env: Mapping[str, str] | None = None) -> int:
    """Seconds between a sensor's looks at its roots (CLAUDE_VIEW_SENSOR_INTERVAL)."""
    return int(_number(os.environ if env is None else env, "CLAUDE_VIEW_SENSOR_INTERVAL", 3, int, 1, "a whole number of seconds (1 or more)"))


def rate_limit_warn_percent(env: Mapping[str, str] | None = None) -> float:
    """How full (percent) the active Codex primary window may be before the rate-limit check
    warns (CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT)."""
    env = os.environ if env is None else env
    value = _number(env, "CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT", 90.0, float, 0, "a percentage from 0 to 100")
    if value > 100:
        raise ConfigError(f"CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT={env['CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT'].strip()!r} "
                          "is not a percentage from 0 to 100; unset it for the default (90)")
    return value


def checked_timezone(name: str) -> str:
    """An IANA zone name as given, or a settings error naming it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown timezone {name!r}; use an IANA name such as UTC or Europe/Berlin") from None


def local_timezone() -> str:
    """The machine's IANA zone (tzlocal: $TZ, then the system's own setting), else UTC."""
    import tzlocal

    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # noqa: BLE001 - tzlocal raises its own errors for a broken system setting
        name = None
    try:
        return checked_timezone(name) if name else "UTC"
    except ConfigError:
        return "UTC"


def usage_timezone(env: Mapping[str, str] | None = None) -> str:
    """The zone usage days are cut in (CLAUDE_VIEW_TIMEZONE, else the machine's): one setting
    for the command line, the daily_usage table it rebuilds and the Dagster assets, so the
    table means the same whoever wrote it last (it records the zone in its rows)."""
    raw = (os.environ if env is None else env).get("CLAUDE_VIEW_TIMEZONE", "").strip()
    if not raw:
        return local_timezone()
    try:
        return checked_timezone(raw)
    except ConfigError:
        raise ConfigError(f"CLAUDE_VIEW_TIMEZONE={raw!r} is not a timezone; use an IANA name such as UTC or Europe/Berlin") from None


def enable_flag(source: Source) -> str:
    """The environment variable that switches a source on and off."""
    return source.spec.enable_flag


def flag_as_set(source: Source) -> str:
    """The source's switch as the user spelled it (``ENABLE_CODEX_SOURCE=off``), for messages."""
    flag = enable_flag(source)
    return f"{flag}={os.environ.get(flag, '').strip()}"


def parse_flag(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a boolean; use one of true/false/1/0/yes/no/on/off"
    )


def default_db_path(env: Mapping[str, str]) -> Path:
    if env.get("CLAUDE_VIEW_DB"):
        return Path(env["CLAUDE_VIEW_DB"]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "claude-view-pipeline" / "index.duckdb"


@dataclass(frozen=True)
class Settings:
    db_path: Path
    roots: dict[Source, list[Path]] = field(default_factory=dict)
    enabled: dict[Source, bool] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        # a bad value is a settings error before any work, not a failure half-way
        duckdb_memory(env)
        lock_timeout(env)
        parse_workers(env)
        sensor_interval(env)
        rate_limit_warn_percent(env)
        usage_timezone(env)
        log_format(env)
        return cls(
            db_path=default_db_path(env),
            roots={s: s.spec.roots(env) for s in ALL_SOURCES},
            enabled={s: parse_flag(enable_flag(s), env.get(enable_flag(s)), True) for s in ALL_SOURCES},
        )

    def roots_for(self, source: Source, directory: Path | str | None = None) -> list[Path]:
        """A source's roots: those of a directory given explicitly (a CLI flag, a resource
        field), else the environment's."""
        if directory:
            return source.spec.roots_for_dir(Path(directory).expanduser())
        return self.roots[source]

    def enabled_sources(self) -> list[Source]:
        return [s for s in ALL_SOURCES if self.enabled.get(s, True)]
