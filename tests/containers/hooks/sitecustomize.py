"""Test-only: the SNS signing certificates of ../shared/sns-vectors, put in the app's certificate
cache before it serves, as the other tests do (there is no network to fetch them from, and they
have expired). The container test mounts this folder and sets PYTHONPATH to it in its own compose
file; the images hold nothing of it, so production cannot turn it on.
"""

import json
import sys
from pathlib import Path

VECTORS = Path("/sns-vectors")

if VECTORS.is_dir():
    sys.path.insert(0, "/app")
    from cryptography import x509

    from maillist.transports.sns.certificates import cache

    for path in sorted((VECTORS / "messages").glob("*.json")):
        url = json.loads(path.read_text()).get("SigningCertURL", "")
        pem = VECTORS / "certs" / url.rsplit("/", 1)[-1]
        if url and pem.is_file():
            cache.put(url, x509.load_pem_x509_certificate(pem.read_bytes()))
