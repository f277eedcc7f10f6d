"""nginx in front of the app: Debian's nginx checks the shipped configuration, then serves
HTTPS on loopback with a certificate made here, proxying to the app."""

import ipaddress
import shutil
import socket
import ssl
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests import helpers
from tests.helpers import CSRF_FIELD, free_port, need

ROOT = helpers.ROOT
TEMPLATE = ROOT / "nginx" / "templates" / "maillist.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def app_overrides(webhook_settings):
    return dict(webhook_settings, PROXY_FIX_HOPS=1, SESSION_COOKIE_SECURE=True)


def self_signed(directory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    return cert_path, key_path


def render_site(values):
    """The template with the variables the nginx image would fill in from the environment."""
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def write_config(directory, upstream, http_port, https_port):
    cert, key = self_signed(directory)
    site = render_site({
        "SERVER_NAME": "localhost", "API_UPSTREAM": upstream, "TLS_CERTIFICATE": str(cert),
        "TLS_CERTIFICATE_KEY": str(key), "HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "HTTPS_LISTEN": f"127.0.0.1:{https_port}", "HTTPS_PORT_SUFFIX": f":{https_port}",
        # The upstream is an address here: the resolver is configured but never asked.
        "MAILLIST_RESOLVER": "127.0.0.1",
    })
    (directory / "maillist.conf").write_text(site)
    main = directory / "nginx.conf"
    main.write_text(f"""
user root;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/maillist.conf;
}}
""")
    return main, cert


@pytest.fixture
def nginx(live_url, tmp_path, aws):
    need(Path(NGINX).exists(), "nginx is not installed (apt-get install nginx-light)")
    aws.add_passthru("https://127.0.0.1")
    aws.add_passthru("http://127.0.0.1")
    http_port, https_port = free_port(), free_port()
    main, cert = write_config(tmp_path, live_url.removeprefix("http://"), http_port, https_port)
    check = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    subprocess.run([NGINX, "-c", str(main), "-p", str(tmp_path)], check=True, timeout=30)
    try:
        yield http_port, https_port, cert
    finally:
        subprocess.run([NGINX, "-c", str(main), "-p", str(tmp_path), "-s", "stop"], timeout=30)


def test_https_proxies_to_the_app_with_hsts(nginx):
    _, https_port, cert = nginx
    response = requests.get(f"https://127.0.0.1:{https_port}/health", verify=str(cert), timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_security_headers_once_each_and_no_server_version(nginx):
    http_port, https_port, cert = nginx
    response = requests.get(f"https://127.0.0.1:{https_port}/login", verify=str(cert), timeout=10)
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert response.raw.headers.getlist(name) and len(response.raw.headers.getlist(name)) == 1, name
    assert response.headers["Server"] == "nginx"
    missing = requests.get(f"http://127.0.0.1:{http_port}/nope", allow_redirects=False, timeout=10)
    assert missing.headers["Server"] == "nginx" and "nginx/" not in missing.text


def test_http_redirects_to_https(nginx):
    http_port, https_port, _ = nginx
    response = requests.get(f"http://127.0.0.1:{http_port}/members/?q=x", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{https_port}/members/?q=x"


def test_modern_tls_over_http_1_1(nginx):
    """TLS 1.2 or 1.3 only; HTTP/1.1 (no `listen ... http2`, which newer nginx warns about at every start)."""
    _, https_port, cert = nginx
    context = ssl.create_default_context(cafile=str(cert))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", https_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() in (None, "http/1.1")
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(cert))
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", https_port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError):
            old.wrap_socket(raw, server_hostname="localhost")


def test_sns_through_nginx_and_body_limit(nginx, app):
    from maillist.extensions import db


    _, https_port, cert = nginx
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]))
    url = f"https://127.0.0.1:{https_port}/webhooks/sns"
    response = requests.post(url, data=helpers.sns_body(message), headers=helpers.SNS_HEADERS, verify=str(cert), timeout=10)
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    db.session.refresh(member)
    assert member.bounce_status == "hard"
    too_big = requests.post(url, data=b"x" * (600 * 1024), headers=helpers.SNS_HEADERS, verify=str(cert), timeout=10)
    assert too_big.status_code == 413


def test_app_sees_https_through_the_forwarded_headers(nginx):
    _, https_port, cert = nginx
    base = f"https://127.0.0.1:{https_port}"
    session = requests.Session()  # verify is given per request: REQUESTS_CA_BUNDLE would override a session's
    page = session.get(f"{base}/login", verify=str(cert), timeout=10)
    assert "Secure" in page.headers["Set-Cookie"]
    token = CSRF_FIELD.search(page.text).group(1)
    fields = {"csrf_token": token, "email": "x@example.org", "password": "wrong password"}
    # Flask-WTF checks the Referer only on HTTPS requests: the app knows it is behind TLS.
    without_referer = session.post(f"{base}/login", data=fields, verify=str(cert), timeout=10)
    assert without_referer.status_code == 400
    with_referer = session.post(f"{base}/login", data=fields, headers={"Referer": f"{base}/login"}, verify=str(cert), timeout=10)
    assert with_referer.status_code == 401


def test_metrics_are_not_served_to_the_internet(nginx):
    _, https_port, cert = nginx
    response = requests.get(f"https://127.0.0.1:{https_port}/metrics", headers={"Authorization": "Bearer anything"},
                            verify=str(cert), timeout=10)
    # nginx's own 404 page: the request never reached the app, token or not.
    assert response.status_code == 404 and "<center>nginx</center>" in response.text
