"""Every message of the desk has an English translation, none is fuzzy, and the compiled
catalogue is current (a fresh machine may lack gettext, so the .mo is kept in the repository)."""
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "src" / "arrears" / "locale" / "en" / "LC_MESSAGES"


def _entries():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:
        if block.startswith("#~") or "msgid" not in block:
            continue
        yield block


def test_every_message_is_translated_and_none_is_fuzzy():
    missing = []
    for block in _entries():
        if "#, fuzzy" in block:
            missing.append(("fuzzy", block))
        strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', block, re.M)
        if not strs or any(not (head or tail.strip()) for head, tail in strs):
            missing.append(("empty", block))
    assert not missing, "\n\n".join(f"{why}: {b}" for why, b in missing[:10])


def _unquote(first: str, rest: str) -> str:
    import ast

    parts = [first] + re.findall(r'^"(.*)"$', rest, re.M)
    return "".join(ast.literal_eval(f'"{p}"') for p in parts)


def test_compiled_catalogue_matches_the_source():
    import gettext

    with open(LOCALE / "django.mo", "rb") as f:
        mo = gettext.GNUTranslations(f)
    checked = 0
    for block in _entries():
        if "msgid_plural" in block:
            continue
        ctx = re.search(r'^msgctxt "(.*)"$', block, re.M)
        mid = re.search(r'^msgid "(.*)"((?:\n".*")*)', block, re.M)
        mstr = re.search(r'^msgstr "(.*)"((?:\n".*")*)', block, re.M)
        msgid, msgstr = _unquote(*mid.groups()), _unquote(*mstr.groups())
        got = mo.pgettext(ctx.group(1), msgid) if ctx else mo.gettext(msgid)
        assert got == msgstr, f"django.mo is stale for {msgid!r}: run compilemessages"
        checked += 1
    assert checked > 100
