"""Where a person is: a governorate, then a camp or district (content/areas.yaml).

Shared by feedback (where it happened) and announcements (what concerns them).
The caller names its own actions: choosing a governorate runs `group_action` +
[governorate id, first], choosing a place runs `pick_action` + [area id]. On SMS
a long list is shown in pages that each fit three segments, keeping each place's
number, with "More" leading to the rest.
"""
from .content import Content, YamlMap
from .conversation import Conversation, ScreenOption, StoredAction
from .search import word_matches
from .sms import fits_sms
from .text import rejoin_split, tokens

Place = tuple[str, str]     # ("group", governorate id) or ("area", camp or district id)


def governorate_options(ctx: Conversation, group_action: StoredAction) -> list[ScreenOption]:
    """One numbered option per governorate."""
    return [(str(n), ctx.pick(g.get("name") or {}), [*group_action, g.get("id")])
            for n, g in enumerate(ctx.content.areas, 1)]


def find_group(ctx: Conversation, group_id: str) -> YamlMap | None:
    return next((g for g in ctx.content.areas if g.get("id") == group_id), None)


def area_options(ctx: Conversation, group: YamlMap, text: str, group_action: StoredAction, pick_action: StoredAction,
                 last: ScreenOption, first: int = 0) -> list[ScreenOption]:
    """The places of one governorate from number `first` + 1 on: as many as fit on the channel, then `last`."""
    places: list[ScreenOption] = [(str(n), ctx.pick(a.get("name") or {}), [*pick_action, a.get("id")])
                                  for n, a in enumerate(group.get("areas") or [], 1)][first:]
    if not ctx.profile.compact:
        return places + [last]

    def fits(options: list[ScreenOption]) -> bool:
        return fits_sms([text], options)

    shown: list[ScreenOption] = []
    for i, place in enumerate(places):
        if fits(shown + places[i:] + [last]):
            return shown + places[i:] + [last]
        after = places[i + 1][0] if i + 1 < len(places) else place[0]
        if shown and not fits(shown + [place, (after, ctx.t("More"), []), last]):
            return shown + [(place[0], ctx.t("More"), [*group_action, group.get("id"), first + i]), last]
        shown.append(place)
    return shown + [last]


def earlier_places(ctx: Conversation, group: YamlMap, pick_action: StoredAction, first: int) -> list[ScreenOption]:
    """The places numbered before this page, still choosable by their number."""
    return [(str(n), ctx.pick(a.get("name") or {}), [*pick_action, a.get("id")])
            for n, a in enumerate(group.get("areas") or [], 1)][:first]


def area_name(ctx: Conversation, area_id: str | None) -> str | None:
    """A stored area as the person reads it: "Khanke camp", or "Outside a camp (Duhok)" where the place's
    name alone is ambiguous; None when unknown or unset."""
    names = [ctx.pick(a.get("name") or {}) for g in ctx.content.areas for a in g.get("areas") or []]
    for group in ctx.content.areas:
        for area in group.get("areas") or []:
            if area.get("id") == area_id:
                place = ctx.pick(area.get("name") or {})
                return place if names.count(place) == 1 else f"{place} ({ctx.pick(group.get('name') or {})})"
    return None


def is_area(ctx: Conversation, area_id: str | None) -> bool:
    return area_name(ctx, area_id) is not None


def named_place(content: Content, text: str) -> Place | None:
    """A short message that names a place ("دهوك", "khanke", "كمب شاريا"): ("group", governorate id)
    or ("area", area id); None when it names none, or more than one, or is a sentence.

    Every language's name counts (people write the Arabic name of a Kurdish town); words that several
    names share ("camp", مخيم, کەمپی) do not tell a place, a typo in a long word is forgiven."""
    index: list[tuple[Place, tuple[str, ...]]] | None = content.__dict__.get("_place_index")
    if index is None:
        index = content.__dict__["_place_index"] = _place_index(content)
    for candidate in (text, rejoin_split(text)):
        words = tokens(candidate or "")
        if not 0 < len(words) <= 4:
            continue
        found = {place for place, needed in index
                 if all(any(word_matches(n, w, loose=len(n) >= 5) for w in words) for n in needed)}
        places = {f for f in found if f[0] == "area"}
        if len(places) == 1:                # "erbil baharka": the camp
            return places.pop()
        groups = {f for f in found if f[0] == "group"} | {("group", group) for p in places
                                                          if (group := _group_of(content, p[1]))}
        if len(groups) == 1:                # "كبرتو": Kabarto 1 or 2, so Duhok's list
            return groups.pop()
    return None


def _group_of(content: Content, area_id: str) -> str | None:
    return next((str(g.get("id")) for g in content.areas
                 if any(a.get("id") == area_id for a in g.get("areas") or [])), None)


def _place_index(content: Content) -> list[tuple[Place, tuple[str, ...]]]:
    names: list[tuple[Place, list[str]]] = []
    for group in content.areas:
        names += [(("group", str(group.get("id"))), tokens(str(n))) for n in (group.get("name") or {}).values()]
        for area in group.get("areas") or []:
            names += [(("area", str(area.get("id"))), tokens(str(n))) for n in (area.get("name") or {}).values()]
    places_with: dict[str, set[Place]] = {}
    for place, words in names:
        for word in set(words):
            places_with.setdefault(word, set()).add(place)
    common = {w for w, places in places_with.items() if len(places) > 3}
    index: list[tuple[Place, tuple[str, ...]]] = []
    for place, words in names:
        needed = tuple(w for w in words if w not in common)
        if needed and (place, needed) not in index:
            index.append((place, needed))
    return index
