"""The PWA's Spanish catalog covers every message the app can show: each
literal key of t(), tn() and N_() in frontend/js has a non-empty entry in
frontend/locales/es.json with the same {placeholders}, plural keys have their
"one" and "other" forms, and the catalog holds nothing the code no longer says.
t() with a computed key is allowed only where it translates words marked with
N_() (tables made at import, translated when shown)."""

import json
import re
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
CATALOGS = sorted((FRONTEND / "locales").glob("*.json"))

# t(<expression>) where the expression is a key marked with N_() elsewhere
# (file name, the expression exactly as written)
COMPUTED_KEYS = {
    ("app.js", "found.route.title"),
    ("app.js", "label"),
    ("rules.js", "LABELS[name]"),
    ("changes.js", "text"),
    ("charts.js", "SCALES[name].label"),
    ("dom.js", "CATEGORIES[category]"),
    ("flare-up.js", "flag"),
    ("flare-up.js", "options[box.value]"),
    ("flare-up.js", "labels[name]"),
    ("guide.js", "PHASES[step.kind]"),
    ("odi.js", "BAND_NAMES[band]"),
    ("odi.js", "BANDS[saved.band]"),
    ("odi.js", "section.title"),
    ("odi.js", "section.question"),
    ("odi.js", "text"),
    ("psfs.js", "SCALE"),
    ("refused.js", 'KINDS[record.kind] || N_("Record")'),
    ("week.js", "STATE_WORDS[state]"),
    ("reminders.js", "label"),
    ("reminders.js", "CHANNEL_NAMES[settings.channel]"),
    ("patients.js", "text"),
    ("patients.js", "c.label"),
    ("patients.js", "FLAG_TEXT[flag]"),
    ("patients.js", "COLUMNS.find((c) => c.key === key).label"),
    ("alerts.js", "label"),
    ("alerts.js", "SEVERITY_WORDS[alert.severity]"),
    ("alerts.js", "STATE_WORDS[alert.state]"),
    ("admin.js", "known.title"),
    ("admin.js", "known.text"),
    ("admin.js", "label"),
    ("admin.js", "SEVERITY_TEXT[setting.severity]"),
    ("admin.js", 'MAIL_KINDS[m.kind] || N_("Email")'),
    ("library.js", "LIMITS"),
    ("programme.js", "ITEM_FIELDS[name]"),
    ("programme.js", "PROGRAMME_FIELDS.items"),
    ("programme.js", "PROGRAMME_FIELDS[name]"),
}

CALL = re.compile(r"(?<![\w$.])(t|tn|N_)\(")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _string_at(source: str, i: int) -> tuple[str, int] | None:
    """The JS string literal starting at `i` (quotes or a template without
    ${}) and the index after it, or None if none starts there."""
    quote = source[i]
    if quote not in "\"'`":
        return None
    text, j = [], i + 1
    while source[j] != quote:
        if source[j] == "\\":
            escaped = source[j + 1]
            text.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
            j += 2
            continue
        if quote == "`" and source.startswith("${", j):
            return None
        text.append(source[j])
        j += 1
    return "".join(text), j + 1


def _skip_argument(source: str, i: int) -> int:
    """The index of the comma or parenthesis that ends the argument at `i`."""
    depth = 0
    while True:
        char = source[i]
        if char in "\"'`":
            quote, i = char, i + 1
            while source[i] != quote:
                i += 2 if source[i] == "\\" else 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif char == "," and depth == 0:
            return i
        i += 1


def _skip_space(source: str, i: int) -> int:
    while source[i].isspace():
        i += 1
    return i


def messages():
    """(singular keys, plural keys {one: other}, computed t() calls, bad calls)."""
    singular, plural, computed, bad = {}, {}, [], []
    for path in sorted((FRONTEND / "js").rglob("*.js")):
        if path.name == "i18n.js":  # where t(), tn() and N_() are defined
            continue
        source = path.read_text(encoding="utf-8")
        for call in CALL.finditer(source):
            where = f"{path.name}:{source.count(chr(10), 0, call.start()) + 1}"
            start = _skip_space(source, call.end())
            if call.group(1) == "tn":
                literals = []
                i = _skip_argument(source, start)  # the count
                for _ in range(2):
                    i = _skip_space(source, i + 1)
                    found = _string_at(source, i)
                    if found is None:
                        break
                    literals.append(found[0])
                    i = _skip_space(source, found[1])
                if len(literals) != 2:
                    bad.append(f"{where}: tn() needs literal one and other forms")
                    continue
                plural[literals[0]] = literals[1]
                continue
            found = _string_at(source, start)
            if found is None:
                end = _skip_argument(source, start)
                computed.append((path.name, source[start:end].strip(), where))
                continue
            singular.setdefault(found[0], where)
    return singular, plural, computed, bad


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_scan_finds_the_app_s_messages():
    singular, plural, _, _ = messages()
    assert "Done" in singular and "Pain right now" in singular  # t() and N_()
    assert plural["{count} spasm"] == "{count} spasms"  # tn()


def test_t_is_called_with_a_literal_key_except_for_words_marked_with_n_():
    _, _, computed, bad = messages()
    unknown = [
        f"{where}: t({expr})"
        for name, expr, where in computed
        if (name, expr) not in COMPUTED_KEYS
    ]
    assert bad == []
    assert unknown == [], "mark the words with N_() and add the call to COMPUTED_KEYS"


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.stem)
def test_every_message_has_a_translation(catalog):
    entries = json.loads(catalog.read_text(encoding="utf-8"))
    singular, plural, _, _ = messages()
    missing = [
        key
        for key in singular
        if not isinstance(entries.get(key), str) or not entries[key].strip()
    ]
    missing += [one for one in plural if not isinstance(entries.get(one), dict)]
    assert missing == []


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.stem)
def test_plural_entries_have_every_form(catalog):
    entries = json.loads(catalog.read_text(encoding="utf-8"))
    _, plural, _, _ = messages()
    incomplete = [
        one
        for one in plural
        if isinstance(entries.get(one), dict)
        and not all(
            isinstance(entries[one].get(form), str) and entries[one][form].strip()
            for form in ("one", "other")
        )
    ]
    assert incomplete == []


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.stem)
def test_translations_keep_the_placeholders(catalog):
    entries = json.loads(catalog.read_text(encoding="utf-8"))
    singular, plural, _, _ = messages()
    wrong = [
        key
        for key in singular
        if isinstance(entries.get(key), str)
        and placeholders(entries[key]) != placeholders(key)
    ]
    for one, other in plural.items():
        forms = entries.get(one)
        if not isinstance(forms, dict):
            continue
        wanted = placeholders(one) | placeholders(other)
        for form, text in forms.items():
            # the one-form may say the number in words ("una serie")
            if not (
                placeholders(text) == wanted
                or (form == "one" and placeholders(text) == wanted - {"count"})
            ):
                wrong.append(f"{one} [{form}]")
    assert wrong == []


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.stem)
def test_the_catalog_holds_no_stale_entries(catalog):
    entries = json.loads(catalog.read_text(encoding="utf-8"))
    singular, plural, _, _ = messages()
    stale = sorted(set(entries) - set(singular) - set(plural))
    assert stale == []
