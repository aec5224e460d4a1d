"""Security headers on every response, set once for the whole app.

The pages carry no inline script, inline event handler or style attribute (the dashboard's behaviour is
in static/dashboard.js, its looks in static/*.css, the charts are SVG with presentation attributes), so
the Content-Security-Policy needs no 'unsafe-inline'. A view that sets one of these headers itself keeps
its own value: the attachment route sends a stricter policy (a sandbox, no sources at all).
"""
from flask import Flask, request

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    """Register the after-request hook (once, however often it is called)."""
    if "security_headers" in app.extensions:
        return
    app.extensions["security_headers"] = True
    public_https = str(app.config.get("PUBLIC_URL") or "").lower().startswith("https://")

    @app.after_request
    def set_security_headers(response):
        """Add each header the view did not set itself."""
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if public_https or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
