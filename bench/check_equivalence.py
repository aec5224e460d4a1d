"""The fast paths give the answers of the straightforward code they replace.

    python bench/check_equivalence.py [--seed N] [--random 3000]

- handlers/search.py: search() and best() through the keyword index, against comparing every keyword
  word with every word of the question (the code before the index, kept below as a reference), on
  every question of tests/payloads/questions*.yaml and on random texts made of keywords and words of
  those questions, mutated (typos, cuts, swapped letters), in every language and none;
- handlers/language.py: detect() against counting every keyword of the language;
- handlers/feedback.py: trigger_kind() and is_sensitive() through PhraseMatcher's sets, against comparing
  every phrase word with every word of the message (word_matches(loose=False));
- bot/channels/twilio.py: twiml() against twilio's MessagingResponse, the signature check against
  RequestValidator.validate;
- bot/channels/telegram.py: keyboard() against python-telegram-bot's ReplyKeyboardMarkup.to_dict().
"""
import argparse
import random
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers import feedback, language, search  # noqa: E402
from handlers.content import load  # noqa: E402
from handlers.text import stems, tokens  # noqa: E402
from handlers.types import Option, Reply  # noqa: E402


# ---- the reference: search as it was before the index ---------------------------------------------
def reference_search(content, text, lang=None):
    words = [stems(t) for t in tokens(text)]
    if not words:
        return []
    weights = search._specificity(content)
    family = search.FAMILY.get(lang or "")
    best_per_span = {}
    for item_id, kw_lang, kw_tokens in content.keyword_index:
        loose = family is None or search.FAMILY.get(kw_lang) == family
        covered, ok = set(), True
        for k in kw_tokens:
            hits = {n for n, forms in enumerate(words) if any(search.word_matches(k, f, loose) for f in forms)}
            if not hits:
                ok = False
                break
            covered |= hits
        if not ok:
            continue
        weight = sum(weights.get(k, 1.0) for k in kw_tokens)
        weight *= search.SAME_LANGUAGE_BONUS if kw_lang == lang else 1.0
        key = (item_id, frozenset(covered))
        best_per_span[key] = max(best_per_span.get(key, 0.0), weight)
    scores = {}
    for (item_id, _span), weight in best_per_span.items():
        scores[item_id] = scores.get(item_id, 0.0) + weight
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def reference_votes(content, text, candidates):
    words = tokens(text)
    phrase = " ".join(words)
    votes = language.grammar_votes(text, words, candidates)
    for lang in candidates:
        for marker in content.markers.get(lang, ()):
            if "ar" in candidates and len(marker) == 1:
                continue
            if (" " in marker and marker in phrase) or marker in words:
                votes[lang] += 1
        for kw_lang, kw in {(kw_lang, tuple(kw)) for _item, kw_lang, kw in content.keyword_index if kw}:
            if kw_lang == lang and all(k in words for k in kw):
                votes[lang] += 1
    return votes


LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءئۆێڕڵەڤکگیqwertyuiopasdfghjklzxcvbnmşçêîû"


def mutate(rng, word):
    chars = list(word)
    for _ in range(rng.randint(0, 2)):
        op, i = rng.randint(0, 4), rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(i, len(chars) - 1)]
        elif op == 1:
            chars.insert(i, rng.choice(LETTERS))
        elif op == 2 and chars:
            chars[min(i, len(chars) - 1)] = rng.choice(LETTERS)
        elif op == 3 and len(chars) > 2:
            j = min(i, len(chars) - 2)
            chars[j], chars[j + 1] = chars[j + 1], chars[j]
        elif op == 4:
            chars = chars[:max(2, len(chars) - rng.randint(1, 3))]
    return "".join(chars)


def check_search(rng, extra: int) -> int:
    content = load()
    texts = []
    for name in ("questions.yaml", "questions_holdout.yaml"):
        data = yaml.safe_load((ROOT / "tests" / "payloads" / name).read_text(encoding="utf-8"))
        for lang, entries in data.items():
            texts += [(e["q"] if isinstance(e, dict) else str(e), lang) for e in entries or []]
    keyword_words = sorted({t for _, _, kw in content.keyword_index for t in kw})
    question_words = [w for t, _ in texts for w in t.split()]
    for _ in range(extra):
        pool = [rng.choice(keyword_words if rng.random() < .5 else question_words) for _ in range(rng.randint(1, 6))]
        texts.append((" ".join(mutate(rng, w) for w in pool), rng.choice(list(search.FAMILY) + [None])))
    differences, old_time, new_time = 0, 0.0, 0.0
    for text, lang in texts:
        for asked in {lang, None, "ar"}:
            started = time.perf_counter()
            expected = reference_search(content, text, asked)
            middle = time.perf_counter()
            got = search.search(content, text, asked)
            old_time, new_time = old_time + middle - started, new_time + time.perf_counter() - middle
            if got != expected:
                differences += 1
                print(f"search differs: {text!r} ({asked}): {expected[:3]} != {got[:3]}")
        for candidates in (("ar", "ckb", "kmr"), ("ckb", "kmr")):
            if language._marker_votes(content, text, candidates) != reference_votes(content, text, candidates):
                differences += 1
                print(f"language votes differ: {text!r}")
    for _ in range(20 * extra):
        keyword, word = rng.choice(keyword_words), mutate(rng, rng.choice(keyword_words + question_words))
        index = search.index_for(content)
        for loose in (True, False):
            matched = search.word_matches(keyword, word, loose)
            found = keyword in index.matches(word)[0 if loose else 1]
            if matched != found:
                differences += 1
                print(f"index misses word_matches({keyword!r}, {word!r}, {loose})")
    runs = sum(len({lang, None, "ar"}) for _, lang in texts)
    print(f"search: {len(texts)} texts, {runs} searches, {differences} differences; "
          f"{old_time * 1000 / runs:.2f} ms before, {new_time * 1000 / runs:.3f} ms now per search")
    return differences


def reference_match_any(words, phrases) -> bool:
    forms = [stems(w) for w in words]
    return any(parts and all(any(search.word_matches(p, f, loose=False) for fs in forms for f in fs) for p in parts)
               for parts in (tokens(str(phrase)) for phrase in phrases))


def check_feedback_words(rng, extra: int) -> int:
    content = load()
    kinds = [(k.get("id"), [w for ws in (k.get("words") or {}).values() for w in ws or []])
             for k in content.feedback.get("kinds") or []]
    sensitive = [w for ws in ((content.feedback.get("sensitive") or {}).get("words") or {}).values() for w in ws or []]
    texts = []
    for name in ("questions.yaml", "questions_holdout.yaml", "questions_more.yaml"):
        data = yaml.safe_load((ROOT / "tests" / "payloads" / name).read_text(encoding="utf-8"))
        for entries in data.values():
            texts += [e["q"] if isinstance(e, dict) else str(e) for e in entries or []]
    pool = [w for phrase in sensitive + [w for _, ws in kinds for w in ws] for w in str(phrase).split()]
    pool += [w for t in texts for w in t.split()]
    for _ in range(extra * 10):
        texts.append(" ".join(mutate(rng, rng.choice(pool)) + rng.choice(["", "ات", "ء", "ه", "ان"])
                              for _ in range(rng.randint(1, 5))))
    differences = 0
    for text in texts:
        phrase = " ".join(tokens(text))
        expected_kind = next((kind for kind, words in kinds if reference_match_any(phrase.split(), words)), None)
        if feedback.trigger_kind(content, phrase) != expected_kind or \
                feedback.is_sensitive(content, text) != reference_match_any(tokens(text), sensitive):
            differences += 1
            print(f"feedback words differ: {text!r}")
    print(f"feedback and sensitive words: {len(texts)} texts, {differences} differences")
    return differences


def check_rendering(rng, count: int) -> int:
    from telegram import KeyboardButton, ReplyKeyboardMarkup
    from twilio.request_validator import RequestValidator

    from bot.channels import telegram, twilio
    from bot.channels.plain import option_key
    differences = 0
    alphabet = "ab <>&\"' \n\t١٢ شنو ێۆ 🌐 *x* ç;=?/"
    config = {"PUBLIC_URL": "https://bot.example.org"}
    for n in range(count):
        def text():
            return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        replies = [Reply(text(), [Option(str(k), text()) for k in range(rng.randint(0, 4))],
                         image=rng.choice([None, "step1.png", "a&b.png"]), language=rng.choice(["ar", "en"]))
                   for _ in range(rng.randint(0, 3))]
        for channel in ("sms", "whatsapp"):
            from twilio.twiml.messaging_response import MessagingResponse
            expected = MessagingResponse()
            for body, image in twilio.bodies(channel, replies):
                message = expected.message(body)
                if image and (url := twilio.image_url(Reply("", image=image), config)):
                    message.media(url)
            if twilio.twiml(channel, replies, config) != str(expected):
                differences += 1
                print(f"twiml differs: {replies!r}")
        for reply in replies:
            expected = None
            if reply.options:
                rows = [[KeyboardButton(f"{option_key(o.key, reply.language)}. {o.label}")] for o in reply.options]
                expected = ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True).to_dict()
            if telegram.keyboard(reply) != expected:
                differences += 1
                print(f"keyboard differs: {reply!r}")
        form = {"Body": text(), "From": "+9647" + str(n), "MessageSid": f"SM{n}"}
        url = rng.choice(["https://bot.example.org/webhooks/twilio", "https://bot.example.org:443/webhooks/twilio",
                          "http://bot.example.org/webhooks/twilio?x=1"])
        signer = RequestValidator("token")
        for signature in (signer.compute_signature(url, form), signer.compute_signature(url.replace(":443", ""), form),
                          "wrong"):
            if twilio.check_signature(url, form, signature, {"TWILIO_AUTH_TOKEN": "token"}) != \
                    signer.validate(url, form, signature):
                differences += 1
                print(f"signature check differs: {url} {form}")
    print(f"rendering and signatures: {count} cases, {differences} differences")
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--random", type=int, default=1000, help="random texts besides the question tables")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    return 1 if check_search(rng, args.random) + check_feedback_words(rng, args.random) + \
        check_rendering(rng, 2000) else 0


if __name__ == "__main__":
    sys.exit(main())
