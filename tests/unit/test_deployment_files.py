"""docker-compose.yml, the Dockerfile, .env.example and the nginx template, checked statically
(no Docker engine runs here): every service, port, volume and variable that the docs name exists."""

import re
from pathlib import Path

import pytest
import yaml

from config import Config
from tests.helpers import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
README = (ROOT / "README.md").read_text()


def example_names():
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, re.M))


def test_services_and_their_parts():
    services = COMPOSE["services"]
    assert set(services) == {"mysql", "api", "postfix", "nginx", "poller"}
    assert services["poller"]["profiles"] == ["poller"], "the poller runs only when asked for"
    assert services["poller"]["entrypoint"] == ["/app/docker/poller-entrypoint.sh"]
    assert (ROOT / "docker" / "poller-entrypoint.sh").stat().st_mode & 0o111
    assert services["mysql"]["healthcheck"]["test"]
    assert "mysql-data:/var/lib/mysql" in services["mysql"]["volumes"]
    assert services["api"]["expose"] == ["8000"]
    assert services["api"]["depends_on"]["mysql"]["condition"] == "service_healthy"
    assert services["api"]["build"]["target"] == "app" and services["postfix"]["build"]["target"] == "postfix"
    assert "25:25" in services["postfix"]["ports"]
    assert {"80:80", "443:443"} <= set(services["nginx"]["ports"])
    assert set(COMPOSE["volumes"]) == {"mysql-data", "api-instance", "postfix-spool"}
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") and (ROOT / source).exists() or source in COMPOSE["volumes"], volume


def test_api_migrates_before_serving_with_gunicorn_on_8000():
    entrypoint = (ROOT / "docker" / "api-entrypoint.sh").read_text()
    assert entrypoint.index("flask db upgrade") < entrypoint.index("exec gunicorn")
    gunicorn_conf = (ROOT / "gunicorn.conf.py").read_text()
    assert '"0.0.0.0:8000"' in gunicorn_conf
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim AS app" in dockerfile and "FROM app AS postfix" in dockerfile
    assert "postfix-mysql" in dockerfile
    for copied in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", dockerfile, re.M):
        for name in copied.split():
            assert (ROOT / name).exists(), name


def test_api_is_behind_the_proxy():
    environment = COMPOSE["services"]["api"]["environment"]
    assert environment["PROXY_FIX_HOPS"] == "1" and environment["SESSION_COOKIE_SECURE"] == "true"
    assert environment["DATABASE_URL"].startswith("mysql+pymysql://")


def test_every_setting_is_in_env_example():
    settings = {name for name in vars(Config({})) if name.isupper()} - {"DATABASE_URL", "PREFERRED_URL_SCHEME"}
    compose_set = set(COMPOSE["services"]["api"]["environment"])
    missing = settings - example_names() - compose_set
    assert not missing, f"settings missing from .env.example: {sorted(missing)}"
    render_settings = set(re.findall(r"env\.get\(\"([A-Z_]+)\"", (ROOT / "postfix" / "render.py").read_text()))
    postfix_missing = {n for n in render_settings if n.startswith("SES_")} - example_names()
    assert not postfix_missing


def test_compose_variables_are_documented():
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert used <= example_names(), used - example_names()


def test_nginx_template_variables_are_set_by_compose():
    template = (ROOT / "nginx" / "templates" / "maillist.conf.template").read_text()
    variables = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    assert variables <= set(COMPOSE["services"]["nginx"]["environment"]), variables


@pytest.mark.parametrize("command", ["docker-compose logs -f api", "docker-compose exec mysql mysql -u maillist -p maillist"])
def test_readme_operations_match_compose(command):
    assert command in README
    service = command.split()[2] if "exec" in command else command.split()[-1]
    assert service in COMPOSE["services"]
