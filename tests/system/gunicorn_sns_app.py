"""The app as gunicorn serves it in the multi-process tests and the webhook benchmark, with the
test signing certificate already in the certificate cache (there is no network to fetch it from)."""

import os
from pathlib import Path

from cryptography import x509

from maillist import create_app
from maillist.transports.sns.certificates import cache

app = create_app()
cache.put(os.environ["BENCH_CERT_URL"], x509.load_pem_x509_certificate(Path(os.environ["BENCH_CERT_PEM"]).read_bytes()))
