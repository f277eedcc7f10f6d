"""The containers' health checks: `healthcheck.py http HOST:PORT` (GET /health answers 200) or
`healthcheck.py smtp HOST:PORT` (the server greets with 220). Exit 0 when healthy, 1 when not."""

import smtplib
import sys
import urllib.request


def healthy(kind, address):
    host, _, port = address.rpartition(":")
    if kind == "http":
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=4) as response:
            return response.status == 200
    if kind == "smtp":
        with smtplib.SMTP(timeout=4) as smtp:
            code, _ = smtp.connect(host, int(port))
            smtp.quit()
            return code == 220
    raise SystemExit(f"healthcheck.py: unknown check {kind!r}")


if __name__ == "__main__":
    try:
        sys.exit(0 if healthy(*sys.argv[1:3]) else 1)
    except (OSError, smtplib.SMTPException) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        sys.exit(1)
