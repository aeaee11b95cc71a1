"""Local services for trying and testing the team index: a PostgreSQL server on loopback
(the catalog of the team store) with its data under ``.services/`` (or
``CLAUDE_VIEW_SERVICES_DIR``), and a directory for the store's data files.

``up`` starts them (or finds them running) and prints the environment the ``team``
commands read, as ``export NAME=value`` lines, so ``eval "$(./pipeline services up)"``
works; ``down`` stops them; data stays for the next ``up``. PostgreSQL refuses to run as
root, so under root the server runs as the ``postgres`` system user (Debian's package
creates it)."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
from glob import glob
from pathlib import Path

from . import config

DATABASE = "claude_view"  # the team store's catalog
DAGSTER_DATABASE = "dagster"  # run, event and schedule storage of the team's Dagster (deploy/team/)
ROLE = "claude_view"


class ServiceError(RuntimeError):
    pass


def services_dir() -> Path:
    return config.services_dir()


def _pg_bin(name: str) -> str:
    """A PostgreSQL program: Debian keeps them in /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise ServiceError(f"PostgreSQL's {name} is not installed; on Debian/Ubuntu: apt-get install postgresql")


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceError("PostgreSQL does not run as root and there is no 'postgres' user to run it as") from None
    if not shutil.which("runuser"):
        raise ServiceError("PostgreSQL does not run as root, and runuser (util-linux), which starts it as the 'postgres' "
                           "user, is not on PATH; install util-linux or run this as another user")
    return ["runuser", "-u", "postgres", "--", *argv]


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run(_as_server_user(argv), capture_output=True, text=True)
    if proc.returncode:
        raise ServiceError(f"{what} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    return proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running(data: Path) -> bool:
    return subprocess.run(_as_server_user([_pg_bin("pg_ctl"), "-D", str(data), "status"]), capture_output=True).returncode == 0


def up(base: Path) -> dict[str, str]:
    """Start PostgreSQL (initialising it the first time) and return the environment."""
    pg = base / "postgres"
    data, port_file, log = pg / "data", pg / "port", pg / "server.log"
    pg.mkdir(parents=True, exist_ok=True)
    team_data = base / "team-data"
    team_data.mkdir(exist_ok=True)
    os.chmod(team_data, 0o700)
    if os.geteuid() == 0:
        shutil.chown(pg, "postgres", "postgres")
        if subprocess.run(_as_server_user(["test", "-w", str(pg)])).returncode:
            raise ServiceError(f"the postgres user cannot reach {pg}; set CLAUDE_VIEW_SERVICES_DIR to a directory it can")
    if not (data / "PG_VERSION").exists():
        _run([_pg_bin("initdb"), "-D", str(data), "-U", ROLE, "-A", "trust", "--no-sync", "-E", "UTF8"], "initdb")
    if not _running(data):
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {shlex.quote(str(pg))} -c fsync=off"
        _run([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], "starting PostgreSQL")
        port_file.write_text(str(port))
    port = int(port_file.read_text())
    for database in (DATABASE, DAGSTER_DATABASE):
        exists = _run([_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, "-d", "postgres", "-tAc",
                       f"SELECT 1 FROM pg_database WHERE datname = '{database}'"], "psql").strip()
        if not exists:
            _run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, database], "createdb")
    return {
        "CLAUDE_VIEW_TEAM_CATALOG": f"postgresql+psycopg2://{ROLE}@127.0.0.1:{port}/{DATABASE}",
        "CLAUDE_VIEW_TEAM_DATA": str(team_data),
        "CLAUDE_VIEW_DAGSTER_PG_URL": f"postgresql+psycopg2://{ROLE}@127.0.0.1:{port}/{DAGSTER_DATABASE}",
    }


def down(base: Path) -> bool:
    """Stop PostgreSQL if it runs; True when it was running."""
    data = base / "postgres" / "data"
    if not (data / "PG_VERSION").exists() or not _running(data):
        return False
    _run([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], "stopping PostgreSQL")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["up"], ["down"]):
        print("usage: services up|down", file=sys.stderr)
        return 2
    base = services_dir()
    try:
        if args == ["up"]:
            for name, value in up(base).items():
                print(f"export {name}={shlex.quote(value)}")
        else:
            print("stopped" if down(base) else "not running", file=sys.stderr)
    except ServiceError as exc:
        print(f"services: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the services directory cannot be made or used (a file in its way, no permission)
        where = exc.filename or base
        print(f"services: cannot use {where}: {exc.strerror or exc}; set CLAUDE_VIEW_SERVICES_DIR to a directory you can write",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
