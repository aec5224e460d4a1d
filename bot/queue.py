"""The task queue: SqliteHuey in instance/ by default, RedisHuey when REDIS_URL is set.

Run the consumer with `huey_consumer bot.queue.huey` (the Procfile's worker).
Tasks carry only row ids: the database row is the message, the task a courier.
"""
import logging

from huey import RedisHuey, SqliteHuey, crontab

from . import config as config_module
from . import runtime as runtime_module

log = logging.getLogger(__name__)


def _make_huey():
    settings = config_module.load(runtime_module.instance_path())
    immediate = settings["HUEY_IMMEDIATE"]
    if settings.get("REDIS_URL"):
        return RedisHuey("bot", url=settings["REDIS_URL"], immediate=immediate)
    return SqliteHuey("bot", filename=settings["HUEY_SQLITE_PATH"], immediate=immediate)


huey = _make_huey()


@huey.task(retries=0, context=False)
def send_outbound_task(outbound_id: int) -> str:
    from .outbound import send_one
    return send_one(runtime_module.default(), outbound_id)


@huey.periodic_task(crontab(minute="*/2"))
def sweep_task() -> int:
    from .outbound import sweep
    return sweep(runtime_module.default())


@huey.periodic_task(crontab(minute="17", hour="*/6"))
def retention_task() -> dict:
    from .retention import purge
    return purge(runtime_module.default())
