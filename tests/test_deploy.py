"""The deployment files against the code they deploy. No Docker engine runs here, so each file is parsed
and what it names is checked: the commands exist in the real CLI, the settings in `Settings`, the health
check's path in the real app, the proxy's upstreams in the compose file, the copied paths in the repo."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url
from starlette.routing import Route

import bot.cli
from bot.app import build_app
from bot.server import RunningServer
from bot.settings import Settings, SettingsError, load_settings
from storage.db import create_db_engine, upgrade
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
BOTS = ("bot-1", "bot-2")
# What Slack and a load balancer's checks reach; nothing else is public (not /metrics).
PUBLIC_PATHS = {
    "/slack/events",
    "/slack/install",
    "/slack/oauth_redirect",
    "/api/messages",
    "/healthz",
    "/readyz",
}
# Variables the official postgres image reads.
POSTGRES_IMAGE_VARIABLES = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "POSTGRES_INITDB_ARGS",
    "POSTGRES_INITDB_WALDIR",
    "POSTGRES_HOST_AUTH_METHOD",
    "PGDATA",
}
# Variables the image sets for Python itself, not for ExtraMile.
PYTHON_VARIABLES = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
SETTINGS = set(Settings.model_fields)


# --- reading the files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_stages() -> list[list[Instruction]]:
    """The Dockerfile's instructions, one list per `FROM`, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[list[Instruction]] = []
    for line in lines:
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, f"{keyword} before the first FROM"
        stages[-1].append(Instruction(keyword.upper(), arguments.strip()))
    return stages


def arguments_of(stage: list[Instruction], keyword: str) -> list[str]:
    return [instruction.arguments for instruction in stage if instruction.keyword == keyword]


def env_of(stage: list[Instruction]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for arguments in arguments_of(stage, "ENV"):
        for pair in shlex.split(arguments):
            name, equals, value = pair.partition("=")
            assert equals, f"ENV {arguments!r}: write NAME=value"
            variables[name] = value
    return variables


def exec_form(arguments: str) -> list[str]:
    """A CMD's argv: its JSON array, or the shell form run through /bin/sh -c."""
    if arguments.startswith("["):
        argv: list[str] = json.loads(arguments)
        return argv
    return ["/bin/sh", "-c", arguments]


def commands_in(argv: list[str]) -> list[list[str]]:
    """The programs an argv runs: a `sh -c` script is split at `&&`, and `exec` is dropped."""
    if argv[0] in ("sh", "/bin/sh") and argv[1] == "-c":
        commands = [shlex.split(part) for part in argv[2].split("&&")]
        return [command[1:] if command[0] == "exec" else command for command in commands]
    return [argv]


def env_example(*, commented: bool = False) -> dict[str, str]:
    """NAME=value lines of .env.example; with `commented`, the commented-out examples too."""
    pattern = r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$"
    return {
        match[1]: match[2]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if (match := re.match(pattern, line))
    }


INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, from `values` (its .env)."""

    def value(match: re.Match[str]) -> str:
        name, operator, word = match[1], match[2], match[3]
        if values.get(name):
            return values[name]
        assert operator is None or "?" not in operator, f"compose would stop: {word}"
        return word or ""

    return INTERPOLATION.sub(value, text)


def compose() -> dict[str, Any]:
    """docker-compose.yml as `docker compose` reads it with .env.example copied to .env."""
    text = interpolate((ROOT / "docker-compose.yml").read_text(), env_example())
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {name: str(value) for name, value in environment.items()}


def nginx_blocks(kind: str) -> dict[str, str]:
    """`upstream NAME {...}` or `location [=] PATH {...}` blocks of deploy/nginx.conf: name to body."""
    text = "\n".join(
        line.split("#", 1)[0] for line in (ROOT / "deploy" / "nginx.conf").read_text().splitlines()
    )
    pattern = rf"\b{kind}\s+((?:[=~^*]+\s+)?\S+)\s*\{{([^{{}}]*)\}}"
    return {match[1]: match[2] for match in re.finditer(pattern, text)}


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[tuple[Any, RunningServer]]:
    """The real app on loopback, built as the tests build it (Slack is never called here)."""
    url = f"sqlite:///{tmp_path / 'extramile.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    app = build_app(make_settings(url, "http://127.0.0.1:9/"))
    server = RunningServer(app.web)
    try:
        yield app, server
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()


@pytest.fixture
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment wins over a .env file: clear it so the file alone is read."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


# --- the Dockerfile ---------------------------------------------------------------------------------


def test_the_image_is_built_in_one_stage_and_runs_from_a_slim_one_that_copies_only_the_venv() -> None:
    *builders, final = dockerfile_stages()

    assert builders, "one stage builds, another runs"
    base = final[0].arguments.split()[0]
    assert base == "python:3.11-slim"
    build = builders[-1]
    build_base, _, build_name = build[0].arguments.partition(" AS ")
    # The venv's interpreter is a link into the base image: the same image on both sides keeps it valid.
    assert build_base.strip() == base
    assert any("[postgres]" in run for run in arguments_of(build, "RUN"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "postgres" in pyproject["project"]["optional-dependencies"]

    copies = [shlex.split(arguments) for arguments in arguments_of(final, "COPY")]
    assert copies == [[f"--from={build_name.strip()}", "/opt/venv", "/opt/venv"]]
    environment = env_of(final)
    assert environment["PATH"].startswith("/opt/venv/bin:")
    assert environment["PYTHONDONTWRITEBYTECODE"] == "1"
    assert environment["PYTHONUNBUFFERED"] == "1"


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    final = dockerfile_stages()[-1]
    users = arguments_of(final, "USER")

    assert users, "the final stage sets a USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    last_user = max(i for i, instruction in enumerate(final) if instruction.keyword == "USER")
    assert all(instruction.keyword != "RUN" for instruction in final[last_user:]), "RUN after USER"


def test_the_image_environment_names_only_settings_and_python_variables() -> None:
    for stage in dockerfile_stages():
        for name in env_of(stage):
            assert name in SETTINGS | PYTHON_VARIABLES or name.startswith("PIP_"), name
    final = dockerfile_stages()[-1]
    Settings.model_validate({name: value for name, value in env_of(final).items() if name in SETTINGS})
    assert arguments_of(final, "EXPOSE") == [env_of(final)["PORT"]]


def test_what_the_dockerfile_copies_exists_and_is_in_the_build_context() -> None:
    kept = [
        line.removeprefix("!")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    ignored = [
        line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] not in "#!"
    ]
    # The .dockerignore is an allowlist: everything out, then what the build needs back in.
    assert ignored[0] == "*"
    sources = [
        source
        for stage in dockerfile_stages()
        for arguments in arguments_of(stage, "COPY")
        if not arguments.startswith("--from")
        for source in shlex.split(arguments)[:-1]
    ]

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert source in kept, f"COPY {source}: .dockerignore leaves it out of the build context"
    assert ".env" not in kept


def test_the_installed_package_carries_every_migration_file() -> None:
    """The image installs a wheel, not this checkout: Alembic's files must be package data or modules."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = setuptools["packages"]["find"]["include"]
    data = setuptools["package-data"]

    files = [
        path.relative_to(ROOT)
        for path in (ROOT / "storage" / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert any(path.name == "env.py" for path in files)
    for path in files:
        package = ".".join(path.parent.parts)
        module = path.suffix == ".py" and any(fnmatch(package, pattern) for pattern in include)
        packaged = any(
            fnmatch(path.relative_to(name).as_posix(), glob)
            for name, globs in data.items()
            if path.is_relative_to(name)
            for glob in globs
        )
        assert module or packaged, f"{path} would be missing from the installed package"


def test_the_image_migrates_then_runs_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    final = dockerfile_stages()[-1]
    commands = commands_in(exec_form(arguments_of(final, "CMD")[-1]))

    assert commands == [["extramile", "db", "upgrade"], ["extramile", "run"]]
    # `&&`: a replica whose migration failed does not serve; `exec`: the server receives SIGTERM.
    assert "&& exec extramile run" in arguments_of(final, "CMD")[-1]
    assert not arguments_of(final, "ENTRYPOINT")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for program, *arguments in commands:
        assert scripts[program] == "bot.cli:main"
        with pytest.raises(SystemExit) as exit_:
            bot.cli.main([*arguments, "--help"])
        assert exit_.value.code == 0, f"`{program} {' '.join(arguments)}` is not a command"
        assert f"usage: extramile {' '.join(arguments)}" in capsys.readouterr().out


def test_the_real_cli_refuses_a_command_the_image_does_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    # What makes the check above able to fail: a misspelt subcommand exits 2, not 0.
    with pytest.raises(SystemExit) as exit_:
        bot.cli.main(["db", "migrate", "--help"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def healthcheck_argv() -> list[str]:
    (arguments,) = arguments_of(dockerfile_stages()[-1], "HEALTHCHECK")
    _, command = arguments.split(" CMD ", 1)
    argv = shlex.split(command)
    assert argv[0] == "python", "slim images have no curl: the check runs on Python's stdlib"
    return [sys.executable, *argv[1:]]


def test_the_health_check_asks_a_route_the_app_serves(served_app: tuple[Any, RunningServer]) -> None:
    app, server = served_app
    paths = re.findall(r"https?://[^/'\"]+(/[\w/.-]*)", " ".join(healthcheck_argv()))
    served = {
        route.path for route in app.web.routes if isinstance(route, Route) and "GET" in (route.methods or ())
    }

    assert paths == ["/healthz"]
    assert paths[0] in served
    port = server.url.rsplit(":", 1)[1]
    result = subprocess.run(
        healthcheck_argv(), env={**os.environ, "PORT": port}, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


def test_the_health_check_fails_when_nothing_answers() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = subprocess.run(
        healthcheck_argv(), env={**os.environ, "PORT": str(port)}, capture_output=True, text=True, timeout=30
    )

    assert result.returncode != 0
    assert "Connection refused" in result.stderr


# --- docker-compose.yml -----------------------------------------------------------------------------


def test_compose_runs_postgres_two_replicas_and_a_proxy() -> None:
    document = compose()
    services = document["services"]

    assert set(services) == {"postgres", *BOTS, "proxy"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    (volume,) = postgres["volumes"]
    assert volume.split(":")[0] in document["volumes"], "PostgreSQL keeps its data in a named volume"
    check = postgres["healthcheck"]["test"]
    assert "pg_isready" in check
    database = service_environment(postgres)
    assert check[check.index("--username") + 1] == database["POSTGRES_USER"]
    assert check[check.index("--dbname") + 1] == database["POSTGRES_DB"]
    proxy = services["proxy"]
    assert len(proxy["ports"]) == 1, "one public port"


def test_each_replica_is_built_here_and_starts_after_postgres_is_healthy() -> None:
    services = compose()["services"]
    database = service_environment(services["postgres"])

    for name in BOTS:
        service = services[name]
        assert service["build"] == "." and (ROOT / "Dockerfile").is_file()
        assert service["env_file"] == ".env"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "ports" not in service, f"{name}: only the proxy is public (its /metrics is not)"
        url = make_url(service_environment(service)["DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg"
        assert url.host == "postgres"
        assert (url.username, url.password, url.database) == (
            database["POSTGRES_USER"],
            database["POSTGRES_PASSWORD"],
            database["POSTGRES_DB"],
        )


def test_each_replica_runs_real_cli_commands(capsys: pytest.CaptureFixture[str]) -> None:
    services = compose()["services"]
    image_command = exec_form(arguments_of(dockerfile_stages()[-1], "CMD")[-1])

    for name in BOTS:
        service = services[name]
        assert "entrypoint" not in service
        command = service.get("command", image_command)
        argv = shlex.split(command) if isinstance(command, str) else command
        for program, *arguments in commands_in(argv):
            assert program == "extramile"
            with pytest.raises(SystemExit) as exit_:
                bot.cli.main([*arguments, "--help"])
            assert exit_.value.code == 0, f"{name}: `{program} {' '.join(arguments)}` is not a command"
            capsys.readouterr()


def test_every_variable_compose_names_is_a_setting_or_the_databases() -> None:
    services = compose()["services"]
    compose_text = (ROOT / "docker-compose.yml").read_text()
    # Compose fills ${...} from .env, which .env.example is the template of.
    interpolated = {match[1] for match in INTERPOLATION.finditer(compose_text)}

    for name in BOTS:
        assert set(service_environment(services[name])) <= SETTINGS
    assert set(service_environment(services["postgres"])) <= POSTGRES_IMAGE_VARIABLES
    assert not service_environment(services["proxy"])
    assert interpolated <= SETTINGS | POSTGRES_IMAGE_VARIABLES
    assert interpolated <= set(env_example()), "every ${...} is set in .env.example"


# --- the proxy --------------------------------------------------------------------------------------


def test_the_proxy_sends_slacks_paths_to_both_replicas_and_keeps_metrics_private() -> None:
    services = compose()["services"]
    final = dockerfile_stages()[-1]
    upstreams = nginx_blocks("upstream")
    locations = nginx_blocks("location")

    ports = {name: service_environment(services[name]).get("PORT", env_of(final)["PORT"]) for name in BOTS}
    proxied = {
        location: re.search(r"proxy_pass\s+http://(\w+);", body)
        for location, body in locations.items()
        if "proxy_pass" in body
    }
    assert all(location.startswith("= ") for location in proxied), "exact paths only, never a prefix"
    assert {location.removeprefix("= ") for location in proxied} == PUBLIC_PATHS
    assert "/metrics" not in {location.split()[-1] for location in proxied}
    assert "return 404" in locations["/"]
    for match in proxied.values():
        assert match is not None and match[1] in upstreams
        servers = re.findall(r"\bserver\s+(\S+?)(?:\s[^;]*)?;", upstreams[match[1]])
        assert sorted(servers) == sorted(f"{name}:{port}" for name, port in ports.items())


def test_the_proxy_reads_this_config_from_an_nginx_that_re_resolves_upstreams() -> None:
    proxy = compose()["services"]["proxy"]

    mounts = [volume.split(":") for volume in proxy["volumes"]]
    assert ["./deploy/nginx.conf", "/etc/nginx/conf.d/default.conf", "ro"] in mounts
    # `server ... resolve` in an upstream needs nginx 1.27.3 or later.
    version = re.match(r"nginx:(\d+)\.(\d+)(?:\.(\d+))?", proxy["image"])
    assert version is not None
    assert tuple(int(part or 0) for part in version.groups()) >= (1, 27, 3)
    assert {bot: {"condition": "service_healthy"} for bot in BOTS} == proxy["depends_on"]


# --- .env.example -----------------------------------------------------------------------------------


def test_env_example_names_every_setting_and_nothing_else() -> None:
    named = set(env_example(commented=True))
    compose_only = {match[1] for match in INTERPOLATION.finditer((ROOT / "docker-compose.yml").read_text())}

    assert named >= SETTINGS, f"undocumented: {sorted(SETTINGS - named)}"
    assert named <= SETTINGS | compose_only, (
        f"not read by anything: {sorted(named - SETTINGS - compose_only)}"
    )


def test_env_example_loads_as_a_single_workspace_install(no_settings_in_environment: None) -> None:
    settings = load_settings(ROOT / ".env.example")

    settings.require_slack()
    assert not settings.oauth
    assert settings.SLACK_BOT_TOKEN is not None


def test_env_example_becomes_an_oauth_install_by_swapping_the_commented_lines(
    no_settings_in_environment: None, tmp_path: Path
) -> None:
    text = (ROOT / ".env.example").read_text()
    assert "\nSLACK_BOT_TOKEN=" in text
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_REDIRECT_URI"):
        assert f"\n# {name}=" in text
        text = text.replace(f"\n# {name}=", f"\n{name}=")
    oauth = tmp_path / ".env"
    oauth.write_text(text.replace("\nSLACK_BOT_TOKEN=", "\n# SLACK_BOT_TOKEN="))

    settings = load_settings(oauth)

    settings.require_slack()
    assert settings.oauth
    assert settings.SLACK_BOT_TOKEN is None
    assert str(settings.SLACK_REDIRECT_URI).endswith("/slack/oauth_redirect")


def test_every_commented_example_value_is_valid(no_settings_in_environment: None, tmp_path: Path) -> None:
    everything = tmp_path / ".env"
    everything.write_text("".join(f"{name}={value}\n" for name, value in env_example(commented=True).items()))

    settings = load_settings(everything)

    assert settings.SLACK_APP_TOKEN is not None and settings.DATABASE_URL.startswith("postgresql")
    # Both modes at once is the one thing .env.example warns against.
    with pytest.raises(SettingsError, match="both set"):
        settings.require_slack()
