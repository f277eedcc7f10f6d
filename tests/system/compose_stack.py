"""docker-compose.yml and the Dockerfile, run for real: podman behind docker-compose, on stand-ins
for the three public images (no image registry is reachable here; tests/containers/standins).

What this machine needs, and why:
- podman with runc (crun fails on hybrid cgroups) and tests/containers/containers.conf (passed as
  CONTAINERS_CONF: no default ulimits);
- `podman system service` for docker-compose 1.29 to talk to (DOCKER_HOST);
- health checks run by hand: podman runs none by itself without systemd, so a thread calls
  `podman healthcheck run` for every container while compose waits for `service_healthy`.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import ROOT, SHARED, free_port, need

CONTAINERS = ROOT / "tests" / "containers"
STANDINS = CONTAINERS / "standins"
CONTAINERS_CONF = CONTAINERS / "containers.conf"
PROJECT = "maillistci"
DEBIAN = "localhost/maillist-standin/debian"
PYTHON = "localhost/maillist-standin/python:3.11-slim"
MARIADB = "localhost/maillist-standin/mariadb:10.11"
NGINX = "localhost/maillist-standin/nginx:1.27"
TOOLS = "localhost/maillist-standin/tools:latest"
DEBIAN_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def need_engine():
    """podman, docker-compose and mmdebstrap (Debian's packages; .ci/run installs them)."""
    for tool in ("podman", "docker-compose", "mmdebstrap", "openssl"):
        need(shutil.which(tool), f"{tool} is not installed")
    need(os.geteuid() == 0, "the container test runs podman as root")


def engine_env(socket_path=None):
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    if socket_path:
        env["DOCKER_HOST"] = f"unix://{socket_path}"
    return env


def podman(*args, check=True, timeout=600, **options):
    result = subprocess.run(["podman", *args], env=engine_env(), capture_output=True, text=True, timeout=timeout, **options)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def digest(*parts):
    """A short hash of files' contents and strings: the tag a stand-in is cached under."""
    sha = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            for path in sorted(p for p in ([part] if part.is_file() else part.rglob("*")) if p.is_file()):
                sha.update(path.name.encode() + path.read_bytes())
        else:
            sha.update(str(part).encode())
    return sha.hexdigest()[:16]


def image_exists(name):
    return podman("image", "exists", name, check=False).returncode == 0


def build_standin(name, folder, base, build_args=(), extra_files=()):
    """Build `folder`'s Containerfile as `name` unless an image of the same content is cached."""
    tag = f"{name.rsplit(':', 1)[0]}:{digest(folder, base, *build_args, *extra_files)}"
    if not image_exists(tag):
        with tempfile.TemporaryDirectory() as context:
            shutil.copytree(folder, context, dirs_exist_ok=True)
            for extra in extra_files:
                shutil.copy(extra, context)
            args = [arg for pair in [("--build-arg", f"BASE={base}"), *[("--build-arg", a) for a in build_args]] for arg in pair]
            podman("build", "--format", "docker", "--network", "host", "-q", *args, "-t", tag, context, timeout=900)
    podman("tag", tag, name)
    return name


def build_standins():
    """The Debian base (mmdebstrap), then the stand-ins for python, mariadb and nginx, and the tools image."""
    base = f"{DEBIAN}:{digest(DEBIAN_PACKAGES)}"
    if not image_exists(base):
        with tempfile.TemporaryDirectory() as work:
            tarball = Path(work) / "base.tar"
            subprocess.run(["mmdebstrap", "--quiet", "--variant=apt", f"--include={DEBIAN_PACKAGES}", "bookworm", str(tarball)],
                           check=True, capture_output=True, timeout=600)
            podman("import", str(tarball), base, timeout=300)
    build_standin(PYTHON, STANDINS / "python", base, extra_files=[HOST_CA_BUNDLE])
    build_standin(MARIADB, STANDINS / "mariadb", base)
    build_standin(NGINX, STANDINS / "nginx", base)
    moto = next(line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("moto"))
    build_standin(TOOLS, STANDINS / "tools", PYTHON, build_args=[f"MOTO_VERSION={moto.split('==')[1]}"])


def project_copy(target):
    """The checkout's files as git knows them (tracked, or new and not ignored), copied to `target`."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def self_signed_certificate(folder, server_name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={server_name}",
                    "-addext", f"subjectAltName=DNS:{server_name}", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], check=True, capture_output=True)
    (folder / "privkey.pem").chmod(0o644)  # read by nginx's workers in the container


class Stack:
    """One compose project in a folder of its own, driven with the commands the README gives."""

    def __init__(self, folder, settings):
        self.folder = folder
        self.settings = settings
        self.outbox = folder / "relay-outbox"
        self.socket = folder / "podman.sock"
        self.service = None
        self._checking = threading.Event()

    # The engine ---------------------------------------------------------------------------------

    def start_engine(self):
        self.service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{self.socket}"],
                                        env=engine_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            assert time.monotonic() < deadline, "podman system service did not start"
            time.sleep(0.1)

    def stop_engine(self):
        if self.service:
            self.service.terminate()
            self.service.wait(timeout=30)

    @contextmanager
    def health_checks(self):
        """Run every container's health check every two seconds, as Docker would (podman here does not)."""
        self._checking.set()
        thread = threading.Thread(target=self._check_health, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._checking.clear()
            thread.join(timeout=30)

    def _check_health(self):
        while self._checking.is_set():
            for container in self.containers():
                podman("healthcheck", "run", container, check=False, timeout=30)
            time.sleep(2)

    # Compose -----------------------------------------------------------------------------------

    def compose(self, *args, input=None, check=True, timeout=600):
        env = {**engine_env(self.socket), "COMPOSE_PROJECT_NAME": PROJECT,
               "COMPOSE_FILE": f"docker-compose.yml:{CONTAINERS / 'compose.test.yml'}", **self.compose_variables()}
        # The README's commands spell `docker compose`; Debian's docker-compose 1.29 reads the same file.
        result = subprocess.run(["docker-compose", *args], cwd=self.folder, env=env, input=input, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def compose_variables(self):
        """What compose.test.yml reads (the test's own services and hooks)."""
        return {
            "TEST_HOOKS": str(CONTAINERS / "hooks"), "SNS_VECTORS": str(SHARED / "sns-vectors"),
            "TOOLS_IMAGE": TOOLS, "RELAY_SCRIPT": str(ROOT / "tests" / "ses_relay.py"), "RELAY_OUTBOX": str(self.outbox),
            "RELAY_IDENTITIES": self.settings["relay_identities"], "RELAY_RATE": str(self.settings.get("relay_rate", 0)),
            "MOTO_PORT": str(self.settings["moto_port"]),
        }

    def up(self, *args, services=()):
        """`docker compose up -d ...`, returning once every container with a health check is healthy."""
        with self.health_checks():
            self.compose("up", "-d", *args, *services, timeout=900)
            self.wait_healthy()

    def exec(self, service, *command, input=None, check=True):
        return self.compose("exec", "-T", service, *command, input=input, check=check)

    def sql(self, query):
        """Rows of `query` in the mysql container's database, as lists of strings."""
        password = self.settings["env"]["MYSQL_PASSWORD"]
        result = self.exec("mysql", "sh", "-c", 'MYSQL_PWD="$0" exec mariadb -u maillist maillist -N -B -e "$1"', password, query)
        return [line.split("\t") for line in result.stdout.splitlines()]

    # Containers --------------------------------------------------------------------------------

    def containers(self):
        result = podman("ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format", "{{.Names}}", check=False)
        return [name for name in result.stdout.split() if name]

    def inspect(self, container):
        return json.loads(podman("inspect", container).stdout)[0]

    def has_health_check(self, container):
        return bool((self.inspect(container)["Config"].get("Healthcheck") or {}).get("Test"))

    def wait_healthy(self, timeout=240):
        """Until every container runs and each health check passes when run now (a status read from
        `podman inspect` may be the one from before a restart)."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = [c for c in self.containers() if self.has_health_check(c)
                       and podman("healthcheck", "run", c, check=False, timeout=30).returncode != 0]
            not_running = [c for c in self.containers() if self.inspect(c)["State"]["Status"] != "running"]
            if not waiting and not not_running:
                return
            if time.monotonic() > deadline:
                logs = {c: podman("logs", "--tail", "30", c, check=False).stderr[-3000:] for c in waiting + not_running}
                raise AssertionError(f"not healthy: {waiting}, not running: {not_running}\n{logs}")
            time.sleep(1)

    def restart_counts(self):
        return {c: self.inspect(c).get("RestartCount", 0) for c in self.containers()}

    def logs(self, service):
        result = self.compose("logs", "--no-color", service)
        return result.stdout + result.stderr

    def down(self):
        self.compose("--profile", "poller", "down", "-v", "--remove-orphans", check=False, timeout=300)
        for container in self.containers():
            podman("rm", "-f", container, check=False)


def stack_settings():
    """Ports on this host for what the stack publishes, and the .env a club would write."""
    return {
        "ports": {"smtp": free_port(), "http": free_port(), "https": free_port()},
        "moto_port": free_port(),
        # What the SES account has verified: the list domain, and the club's own domain.
        "relay_identities": "lists.example.org,club.example",
        "env": {
            # What a password manager makes: every character a URL or a shell could misread.
            "MYSQL_PASSWORD": "p@ss/#w0rd%41:x?&=",
            "MYSQL_ROOT_PASSWORD": "r@@t/#%:pw",
            "SERVER_NAME": "lists.example.org",
        },
    }


def write_env(folder, settings, extra):
    """The README's step 1: .env from .env.example, with the club's values filled in."""
    values = {**settings["env"], **extra,
              "PUBLISH_SMTP": str(settings["ports"]["smtp"]), "PUBLISH_HTTP": str(settings["ports"]["http"]),
              "PUBLISH_HTTPS": str(settings["ports"]["https"]),
              "PYTHON_IMAGE": PYTHON, "MARIADB_IMAGE": MARIADB, "NGINX_IMAGE": NGINX}
    lines, seen = [], set()
    for line in (folder / ".env.example").read_text().splitlines():
        name = line.partition("=")[0]
        if not line.startswith("#") and "=" in line and name in values:
            line = f"{name}={values[name]}"
            seen.add(name)
        lines.append(line)
    lines += [f"{name}={value}" for name, value in values.items() if name not in seen]
    (folder / ".env").write_text("\n".join(lines) + "\n")
