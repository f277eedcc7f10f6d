"""Which URLs in an SNS message maillist may fetch: only SNS's own, over HTTPS."""

import re
from urllib.parse import urlsplit

from maillist.transports.sns.errors import CertificateUrlRejected

# sns.<region>.amazonaws.com(.cn), where a region looks like AWS's: us-east-1, cn-north-1, us-gov-west-1.
SNS_HOST = re.compile(r"sns\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?", re.ASCII)
# Whitespace (any Unicode space, as str.isspace sees it) or a control character anywhere in a URL.
UNSAFE_CHARACTER = re.compile(r"[\s\x00-\x1f]")


def sns_region(url):
    """The region of an SNS URL already passed by `check_sns_url`."""
    return SNS_HOST.fullmatch(urlsplit(url).hostname or "").group(1)


def check_sns_url(url, what, path_suffix=None):
    """Refuse `url` unless it is https on sns.<region>.amazonaws.com(.cn), default port, no userinfo."""
    if not isinstance(url, str) or not url:
        raise CertificateUrlRejected(f"{what} is missing")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CertificateUrlRejected(f"{what} is not a valid URL") from None
    if parts.scheme != "https":
        raise CertificateUrlRejected(f"{what} is not https")
    if "@" in parts.netloc or parts.username or parts.password:
        raise CertificateUrlRejected(f"{what} carries user information")
    if port not in (None, 443):
        raise CertificateUrlRejected(f"{what} names a non-standard port")
    host = parts.hostname or ""
    netloc = parts.netloc.lower()
    if netloc.endswith(":443"):
        netloc = netloc[: -len(":443")]
    match = SNS_HOST.fullmatch(host)
    if not match or netloc != host:
        raise CertificateUrlRejected(f"{what} host {host!r} is not an SNS host")
    if host.endswith(".cn") != match.group(1).startswith("cn-"):
        raise CertificateUrlRejected(f"{what} host {host!r} is not an SNS host")
    if path_suffix and (parts.query or parts.fragment):
        raise CertificateUrlRejected(f"{what} carries a query or fragment")
    if path_suffix and not parts.path.endswith(path_suffix):
        raise CertificateUrlRejected(f"{what} does not end in {path_suffix}")
    if UNSAFE_CHARACTER.search(url):
        raise CertificateUrlRejected(f"{what} contains whitespace or control characters")
    return url
