"""docker-compose.yml, the Dockerfile, .env.example and the nginx template, checked statically
(no Docker engine runs here): every service, port, volume and variable that the docs name exists."""

import re

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
    assert "${PUBLISH_SMTP:-25}:25" in services["postfix"]["ports"]
    assert {"${PUBLISH_HTTP:-80}:80", "${PUBLISH_HTTPS:-443}:443"} <= set(services["nginx"]["ports"])
    assert set(COMPOSE["volumes"]) == {"mysql-data", "api-instance", "postfix-spool"}
    assert services["mysql"]["image"] == "${MARIADB_IMAGE:-mariadb:10.11}"
    assert services["nginx"]["image"] == "${NGINX_IMAGE:-nginx:1.27-alpine}"
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
    assert "ARG PYTHON_IMAGE=python:3.11-slim\nFROM ${PYTHON_IMAGE} AS app" in dockerfile and "FROM app AS postfix" in dockerfile
    assert "postfix-mysql" in dockerfile
    for copied in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", dockerfile, re.M):
        for name in copied.split():
            assert (ROOT / name).exists(), name


def test_api_is_behind_the_proxy():
    environment = COMPOSE["services"]["api"]["environment"]
    assert environment["PROXY_FIX_HOPS"] == "1" and environment["SESSION_COOKIE_SECURE"] == "true"


def dockerfile_stages():
    """The Dockerfile's stages by name, each as its text."""
    text = (ROOT / "Dockerfile").read_text()
    parts = re.split(r"^FROM \S+ AS (\w+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_each_image_checks_its_own_service():
    """The postfix stage inherits the app's stage: it needs a health check of its own (SMTP, not HTTP)."""
    stages = dockerfile_stages()
    assert re.search(r"^HEALTHCHECK .*healthcheck\.py\", \"http\", \"127\.0\.0\.1:8000\"", stages["app"], re.M)
    assert re.search(r"^HEALTHCHECK .*healthcheck\.py\", \"smtp\", \"127\.0\.0\.1:25\"", stages["postfix"], re.M)


def test_only_gunicorn_gets_the_metrics_folder():
    """Set for every process in the image, a metrics folder only gunicorn made crashed `flask db upgrade`."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in (ROOT / "Dockerfile").read_text()
    entrypoint = (ROOT / "docker" / "api-entrypoint.sh").read_text()
    assert entrypoint.index("flask db upgrade") < entrypoint.index("PROMETHEUS_MULTIPROC_DIR") < entrypoint.index("exec gunicorn")


@pytest.mark.parametrize("service", ["api", "postfix", "poller"])
def test_services_reach_the_database_by_parts_not_a_pasted_url(service):
    """A URL pasted together from MYSQL_PASSWORD broke on `@ / # % :`; the parts go through as they are."""
    environment = COMPOSE["services"][service]["environment"]
    assert "DATABASE_URL" not in environment
    assert environment["MYSQL_HOST"] == "mysql" and environment["MYSQL_PASSWORD"] == "${MYSQL_PASSWORD}"
    assert environment["MYSQL_USER"] == "${MYSQL_USER:-maillist}" and environment["MYSQL_DATABASE"] == "${MYSQL_DATABASE:-maillist}"


def test_postfix_and_poller_share_the_apps_instance_folder():
    """Where the app made its secret key once: the pipes sign and check bounce addresses with it after restarts."""
    for service in ("api", "postfix", "poller"):
        assert "api-instance:/app/instance" in COMPOSE["services"][service]["volumes"], service


def test_owners_digests_go_through_postfixs_own_loopback_port():
    environment = COMPOSE["services"]["postfix"]["environment"]
    assert (environment["SMTP_HOST"], environment["SMTP_PORT"]) == ("127.0.0.1", "10025")
    assert "SMTP_HOST" not in COMPOSE["services"]["api"]["environment"]
    assert "docker compose exec postfix flask bounces notify" in README


def test_the_acme_webroot_is_mounted_where_nginx_serves_it():
    template = (ROOT / "nginx" / "templates" / "maillist.conf.template").read_text()
    root = re.search(r"location /\.well-known/acme-challenge/ \{\s*root (\S+);", template).group(1)
    assert f"./nginx/acme:{root}:ro" in COMPOSE["services"]["nginx"]["volumes"]
    assert (ROOT / "nginx" / "acme").is_dir()
    assert "certbot certonly --standalone" in (ROOT / "nginx" / "certs" / "README.md").read_text()


def test_nginx_template_uses_no_deprecated_listen_parameters():
    """`listen ... http2` makes nginx 1.25.1 and later warn at every start."""
    template = (ROOT / "nginx" / "templates" / "maillist.conf.template").read_text()
    for listen in re.findall(r"^\s*listen ([^;]*);", template, re.M):
        assert "http2" not in listen.split(), listen


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
    environment = COMPOSE["services"]["nginx"]["environment"]
    # MAILLIST_RESOLVER comes from the container's /etc/resolv.conf, through the mounted entry-point script.
    assert "./nginx/entrypoint.d/15-maillist-resolver.envsh:/docker-entrypoint.d/15-maillist-resolver.envsh:ro" in \
        COMPOSE["services"]["nginx"]["volumes"]
    assert variables - {"MAILLIST_RESOLVER"} <= set(environment), variables


def test_nginx_finds_a_restarted_app_again():
    """Resolved once at start, a restarted api container's new address gave 502 until nginx restarted."""
    template = (ROOT / "nginx" / "templates" / "maillist.conf.template").read_text()
    assert re.search(r"^resolver \$\{MAILLIST_RESOLVER\} valid=\d+s", template, re.M)
    assert "upstream " not in template
    assert set(re.findall(r"proxy_pass (\S+);", template)) == {"http://$maillist_api"}


@pytest.mark.parametrize("command", ["docker compose logs -f api", "docker compose exec mysql mariadb -u maillist -p maillist"])
def test_readme_operations_match_compose(command):
    assert command in README
    words = command.split()
    service = words[words.index("exec") + 1] if "exec" in words else words[-1]
    assert service in COMPOSE["services"]


@pytest.mark.parametrize("resolv_conf, expected", [
    ("nameserver 127.0.0.11\noptions ndots:0\n", "127.0.0.11"),
    ("search dns.podman\nnameserver 10.89.0.1\nnameserver 10.255.255.53\n", "10.89.0.1"),
    ("nameserver fd00::1\nnameserver 10.0.0.2\n", "[fd00::1]"),
    ("", "127.0.0.11"),
])
def test_the_resolver_is_the_container_networks_own(tmp_path, resolv_conf, expected):
    """Only the first server (the network's); a host's server does not know the services' names."""
    import subprocess

    script = (ROOT / "nginx" / "entrypoint.d" / "15-maillist-resolver.envsh").read_text()
    (tmp_path / "resolv.conf").write_text(resolv_conf)
    script = script.replace("/etc/resolv.conf", str(tmp_path / "resolv.conf"))
    out = subprocess.run(["sh", "-c", script + '\nprintf %s "$MAILLIST_RESOLVER"'], capture_output=True, text=True, check=True)
    assert out.stdout == expected


def test_the_chart_tells_complaints_from_bounces_by_more_than_a_shade():
    """Red bounces and blue complaints, in light and dark: apart with every common colour blindness."""
    css = (ROOT / "maillist" / "static" / "maillist.css").read_text()
    assert ".bar-complaint { fill: var(--bar-complaint)" in css and ".bar-bounce { fill: var(--bar-bounce)" in css
    light, dark = css.split("@media (prefers-color-scheme: dark)")[:2]
    for scheme in (light, dark):
        bounce = re.search(r"--bar-bounce: (#[0-9a-f]{6})", scheme).group(1)
        complaint = re.search(r"--bar-complaint: (#[0-9a-f]{6})", scheme).group(1)
        red_b, blue_b = int(bounce[1:3], 16), int(bounce[5:7], 16)
        red_c, blue_c = int(complaint[1:3], 16), int(complaint[5:7], 16)
        assert red_b > blue_b and blue_c > red_c, (bounce, complaint)  # red against blue, not red against purple
    dashboard = (ROOT / "maillist" / "templates" / "bounces" / "_dashboard.html").read_text()
    assert "bounces in red, complaints in blue" in dashboard
