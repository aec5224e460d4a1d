"""Building the Flask application: configuration, runtime, blueprints, commands."""
import logging
import os

from flask import Flask, jsonify, render_template, request

from . import config as config_module
from . import runtime as runtime_module


def build_app(test_config: dict | None = None) -> Flask:
    test_config = dict(test_config or {})
    instance_path = test_config.pop("INSTANCE_PATH", None) or os.environ.get("INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    # Operator commands print what they did; their INFO lines (migrations, channels off) only get in the way.
    logging.basicConfig(level=os.environ.get("LOG_LEVEL") or ("WARNING" if _running_another_command() else "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = config_module.load(app.instance_path, test_config.pop("ENVIRON", None))
    settings.update(test_config)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    if settings.get("TRUSTED_PROXIES"):      # behind nginx / a load balancer: the client is in X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix
        # Flask's documented way to put middleware around the app; its types declare wsgi_app a method
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["TRUSTED_PROXIES"])  # type: ignore[method-assign]
    app.secret_key = settings["SECRET_KEY"]

    runtime = runtime_module.build(settings)
    runtime_module.set_default(runtime)
    app.extensions[runtime_module.EXTENSION] = runtime

    from flask_wtf.csrf import CSRFProtect

    from . import cli, dashboard, observability, ops, security_headers, tryout, webhooks
    from .dashboard import auth
    from .recordings import links as recording_links
    observability.configure_logging(settings.get("LOG_FORMAT") == "json")
    observability.init_app(app)
    security_headers.init_app(app)
    auth.init_session(app)
    csrf = CSRFProtect(app)
    csrf.exempt(webhooks.blueprint)   # providers sign their posts instead (Twilio signature, Telegram secret)
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(recording_links.blueprint)
    app.register_blueprint(dashboard.blueprint)
    if settings.get("TRY_PAGE"):
        app.register_blueprint(tryout.blueprint)
    cli.init_app(app)
    if not _running_another_command():
        _say_how_to_make_the_first_admin(runtime)
    if _serving_with_flask_run() and settings.get("EMBEDDED_WORKER"):
        from .queue import start_embedded_worker
        start_embedded_worker()

    @app.get("/")
    def index():
        if request.accept_mimetypes.best == "application/json":
            return jsonify(service="community messaging bot", try_page="/try" if settings.get("TRY_PAGE") else None,
                           dashboard="/dashboard/")
        return render_template("index.html", try_page=settings.get("TRY_PAGE"))

    return app


def _running_another_command() -> bool:
    """An operator command other than `flask run` (they would all repeat the first-admin hint)."""
    import click
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name not in ("run", None)


def _serving_with_flask_run() -> bool:
    """True under `flask run` (not under other commands, gunicorn or tests)."""
    import click
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"


def _say_how_to_make_the_first_admin(runtime) -> None:
    """A fresh install has no staff account; the operator reads the log, so the log says what to do."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    from .models import User
    try:
        with runtime.transaction() as session:
            if session.scalar(select(func.count()).select_from(User)):
                return
    except SQLAlchemyError:
        return   # not migrated yet: `flask --app bot db upgrade` says so itself
    logging.getLogger("bot").warning(
        "no staff account yet: create the first admin with "
        "`flask --app bot users create you@example.org --role admin`, then sign in at /dashboard/")


def runtime_of(app: Flask) -> runtime_module.Runtime:
    return runtime_module.of(app.extensions)
