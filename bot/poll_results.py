"""Poll results: counts per question and option, breakdowns, free answers, exports (CSV/JSON with HXL).

Privacy: a breakdown cell (language, channel, governorate, camp, day or hour x option) counting fewer
than POLL_MIN_CELL people (default 5) but more than none is shown as "<5", never its number, so a small
camp's answers cannot point at a person; a row whose total is below the minimum is hidden whole, and a
row with exactly one hidden cell hides its total too (else the cell is a subtraction away). The totals
per question and option (the whole poll) are shown as they are. A viewer gets only aggregates: no free
answers, no per-respondent export (the caller checks users.can(user, "see_poll_answers")).

API:
    results(runtime, session, poll) -> dict          received, and per question: answered, skipped,
                                                     per option count and percent (of those who answered)
    breakdown(runtime, session, poll, by, min_cell=None) -> dict
                                                     by: language | channel | governorate | area | day | hour
    free_answers(runtime, session, poll, question=None, search=None, limit=50, offset=0) -> dict
                                                     decrypted, phone numbers masked; search folds letters
    export_respondents(runtime, session, poll, fmt="csv"|"json") -> str
                                                     one row per person and question; pseudonymous id
                                                     (keyed hash, per poll), never an address
    export_aggregate(runtime, session, poll, fmt="csv"|"json", by="area", min_cell=None) -> str
    HXL: the CSV's second row holds the hashtags (HXL_RESPONDENT / HXL_AGGREGATE)
"""
