"""No Docker engine runs here, so the compose file and the image are checked statically: every app
service runs a real `sprintpilot` subcommand, and the image's entrypoint is an installed script."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import typer
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
APP_SERVICES = {"migrate", "api", "worker", "beat"}


def _is_group(command: Any) -> bool:
    # typer vendors its own click, so duck-type instead of isinstance(click.Group).
    return hasattr(command, "commands")


def _cli() -> Any:
    """The CLI as shipped, plus the pipeline commands if the main app does not mount them yet."""
    from service.cli.main import app as main_app
    from service.cli.serve import serve, webhooks_app
    from service.cli.worker import beat, worker

    group: Any = typer.main.get_command(main_app)
    assert _is_group(group)
    extra = typer.Typer()
    for name, fn in (("serve", serve), ("worker", worker), ("beat", beat)):
        if name not in group.commands:
            extra.command(name)(fn)
    if "webhooks" not in group.commands:
        extra.add_typer(webhooks_app, name="webhooks")
    if extra.registered_commands or extra.registered_groups:
        built: Any = typer.main.get_command(extra)
        if _is_group(built):
            for name, cmd in built.commands.items():
                group.add_command(cmd, name)
        else:  # typer collapses a one-command app into that command
            group.add_command(built, extra.registered_commands[0].name)
    return group


def _resolve(group: Any, argv: list[str]) -> Any:
    """Walk subcommands (`db migrate`) and parse the options, as click would when run."""
    command = group
    args = list(argv)
    while _is_group(command) and args and not args[0].startswith("-"):
        name = args.pop(0)
        assert name in command.commands, f"`sprintpilot {' '.join(argv)}`: no command {name!r}"
        command = command.commands[name]
    ctx = command.make_context("sprintpilot", args, resilient_parsing=False)
    ctx.close()
    return command


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_has_the_pipeline_services_with_health_checks() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", *APP_SERVICES} <= set(services)
    for name in ("postgres", "redis", "api", "worker", "beat"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ("api", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_app_service_runs_a_real_sprintpilot_command() -> None:
    group = _cli()
    services = _compose()["services"]
    checked = set()
    for name, service in services.items():
        if "build" not in service:
            continue  # postgres, redis: third-party images
        assert service.get("entrypoint") == ["sprintpilot"], name
        command = service.get("command")
        assert isinstance(command, list) and command, name
        if command == ["--help"]:
            continue
        _resolve(group, command)
        checked.add(name)
    assert checked >= APP_SERVICES


def test_a_bogus_command_would_be_caught() -> None:
    group = _cli()
    try:
        _resolve(group, ["wrker"])
    except AssertionError:
        return
    raise AssertionError("an unknown subcommand was accepted")


def test_image_entrypoint_is_an_installed_console_script() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    match = re.search(r'^ENTRYPOINT\s+\["([^"]+)"', dockerfile, re.MULTILINE)
    assert match, "Dockerfile has no exec-form ENTRYPOINT"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert match.group(1) in scripts
    module, _, attr = scripts[match.group(1)].partition(":")
    assert module == "service.cli.main" and attr == "app"
    for service in _compose()["services"].values():
        if "build" in service:
            assert service["build"]["dockerfile"] == "docker/Dockerfile"
