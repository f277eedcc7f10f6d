"""Fetching SNS signing certificates over TLS, cached in memory by URL."""

import logging
import threading

import requests
from cryptography import x509

from maillist.transports.sns.errors import CertificateRejected, UpstreamError
from maillist.transports.sns.urls import check_sns_url

log = logging.getLogger(__name__)

MAX_CERT_BYTES = 64 * 1024
MAX_CACHED = 64


class CertificateCache:
    """Certificates by URL. SNS signs with few certificates, so a small cache serves every message."""

    def __init__(self):
        self._certs = {}
        self._lock = threading.Lock()

    def get(self, url, timeout):
        """The certificate at `url` (an SNS URL ending .pem), fetched once per process."""
        with self._lock:
            cert = self._certs.get(url)
        if cert is not None:
            return cert
        cert = fetch_certificate(url, timeout)
        with self._lock:
            if len(self._certs) >= MAX_CACHED:
                self._certs.pop(next(iter(self._certs)))
            self._certs[url] = cert
        return cert

    def put(self, url, cert):
        """Store a certificate already in hand (for replaying saved messages offline)."""
        with self._lock:
            self._certs[url] = cert

    def clear(self):
        """Forget every certificate."""
        with self._lock:
            self._certs.clear()


def fetch_certificate(url, timeout):
    """Download and parse the PEM certificate at `url`, with TLS verified and a size limit."""
    check_sns_url(url, "SigningCertURL", path_suffix=".pem")
    try:
        with requests.get(url, timeout=timeout, stream=True, allow_redirects=False) as response:
            if response.status_code != 200:
                raise UpstreamError(f"certificate fetch answered HTTP {response.status_code}")
            body = response.raw.read(MAX_CERT_BYTES + 1, decode_content=True)
    except requests.RequestException as error:
        raise UpstreamError(f"certificate fetch failed: {type(error).__name__}") from None
    if len(body) > MAX_CERT_BYTES:
        raise CertificateRejected("certificate is too large")
    try:
        return x509.load_pem_x509_certificate(body)
    except ValueError:
        raise CertificateRejected("certificate is not a PEM certificate") from None


cache = CertificateCache()
