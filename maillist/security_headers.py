"""Headers on every answer that tell browsers what this site may do: only our own scripts and styles, no framing."""

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def register(app):
    """Add the headers to every response the app sends."""

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        for name, value in HEADERS.items():
            if name.lower() not in present:
                headers.add(name, value)
        return response
