"""A poll's results: counts and percentages per question and option, breakdowns, charts drawn by the app,
following the answers live while the poll runs; free answers (masked, searchable) for roles that may
read what people write; exports. The counting and its privacy rules are bot.poll_results'.
"""
from flask.typing import ResponseReturnValue

from . import blueprint, require, runtime
from .polls import poll_or_404


@blueprint.get("/polls/<int:poll_id>/results")
def poll_results_page(poll_id: int) -> ResponseReturnValue:
    require("see_polls")
    with runtime().transaction() as db:
        poll_or_404(db, poll_id)
    return ""
