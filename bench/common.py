"""What the benchmark scripts share: a fresh, migrated PostgreSQL database and the closing verdict."""
import json
from pathlib import Path

PROTECTED = ("test", "postgres")   # other suites and the server's own: never dropped


def fresh_postgres(admin_url: str, name: str) -> str:
    """Drop and create `name` through the admin URL, migrate it, return its URL."""
    from sqlalchemy import create_engine, text

    from bot import db
    if name in PROTECTED:
        raise SystemExit(f"refusing to use the database named {name}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    db.upgrade(url)
    return url


def conclude(results: list[dict], report, verdict, json_path: Path | None, log=print) -> int:
    """Print the tables, write the JSON, say per database which targets were missed; 1 if any."""
    report(results)
    if json_path:
        json_path.write_text(json.dumps(results, indent=2))
    missed = {r["database"]: verdict(r) for r in results}
    for kind, problems in missed.items():
        log(f"{kind}: " + ("all targets met" if not problems else "MISSED: " + "; ".join(problems)))
    return 1 if any(missed.values()) else 0
