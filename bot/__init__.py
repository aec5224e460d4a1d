"""The messaging bot: `flask --app bot run` serves `create_app()`.

Kept light on purpose: importing `bot.something` must not pull in Flask for the worker or the tests.
"""


def create_app(test_config: dict | None = None):
    """The Flask application factory (public interface; see DESIGN.md)."""
    from .app import build_app
    return build_app(test_config)
