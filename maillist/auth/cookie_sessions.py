"""Flask's signed-cookie sessions, with no signing work for a request that brings no cookie.

Most requests to the webhook, /health and /metrics carry no cookie and never touch the session;
Flask would still build a signer to open an empty session and work out the cookie's settings to
save it. Both answers are the same without that work: an empty session, and no cookie.
"""

from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified:
            # What Flask does for an empty session left unchanged, without reading the cookie settings.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
