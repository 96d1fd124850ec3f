"""The printed programme handout: what it holds, gathered from the programme
version in force, and the PDF that WeasyPrint makes of its HTML.

Nothing is fetched while rendering: every picture goes into the HTML as a
data: URI and the URL fetcher refuses any other address (no network, no
files). Fonts come from the machine (DejaVu).
"""

import base64
from datetime import date

import segno
from babel.dates import get_day_names
from flask_babel import format_date, get_locale, ngettext, pgettext
from flask_babel import gettext as _

from backend.models import ExerciseMedia, ProgrammeItem, ProgrammeVersion, User
from backend.services import media
from backend.services.library import in_language

# the line drawings stroke with currentColor, which is black in an <img>
INK = "#1f3d39"


def day_words(day: date) -> str:
    """2 December 2026 (2 de diciembre de 2026): in the language spoken."""
    return format_date(
        day, pgettext("a CLDR date pattern: 2 December 2026", "d MMMM y")
    )


def times_a_day(times: int) -> str:
    if times == 2:
        return _("twice a day")
    return ngettext("once a day", "%(num)d times a day", times)


def hold_words(seconds: int) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return ngettext("hold %(num)d minute", "hold %(num)d minutes", seconds // 60)
    return ngettext("hold %(num)d second", "hold %(num)d seconds", seconds)


def weekday_words(days: list[int]) -> str:
    """The days in words: "every day", or "Monday, Wednesday and Friday"."""
    if len(days) == 7:
        return _("every day")
    wide = get_day_names("wide", locale=get_locale())  # 0 is Monday, as ours
    names = [wide[day] for day in sorted(days)]
    if len(names) == 1:
        return names[0]
    return _("%(days)s and %(last)s", days=", ".join(names[:-1]), last=names[-1])


def dosing(item: ProgrammeItem) -> list[str]:
    """The dose in plain words, one part each: ["3 sets of 10", "hold 30
    seconds", "twice a day", "Monday, Wednesday and Friday"]."""
    parts = [
        ngettext(
            "%(num)d set of %(reps)d",
            "%(num)d sets of %(reps)d",
            item.sets,
            reps=item.reps,
        )
    ]
    if item.hold_seconds:
        parts.append(hold_words(item.hold_seconds))
    return parts + [times_a_day(item.times_per_day), weekday_words(item.days_of_week)]


def _picture(item: ProgrammeItem, own: list[ExerciseMedia]) -> str | None:
    """The exercise's picture as a data: URI: the clinic's own first picture
    (its larger size prints sharply), else the shipped line drawing in the
    handout's ink, else None."""
    image = next((m for m in own if m.kind == "image"), None)
    if image is not None:
        path = media.media_dir() / image.file
        if path.is_file():
            return _data_uri(path.read_bytes(), image.content_type)
    drawing = media.illustration_path(item.exercise.slug)
    if drawing is None:
        return None
    svg = drawing.read_text(encoding="utf-8").replace("currentColor", INK)
    return _data_uri(svg.encode(), "image/svg+xml")


def _data_uri(body: bytes, kind: str) -> str:
    return f"data:{kind};base64,{base64.b64encode(body).decode()}"


def _exercise(item: ProgrammeItem, own: list[ExerciseMedia]) -> dict:
    exercise = item.exercise
    drawing = media.illustration(exercise.slug)
    name = in_language(exercise, "name")
    return {
        "name": name,
        "dosing": dosing(item),
        "instructions": in_language(exercise, "instructions"),
        "notes": item.notes,
        "picture": _picture(item, own),
        "alt": in_language(exercise, "alt", drawing["alt"]) if drawing else name,
    }


def contents(patient: User, version: ProgrammeVersion, today: date) -> dict:
    """What the handout template shows, as plain values."""
    therapist = patient.profile.therapist
    own = media.of_exercises(
        patient.clinic_id, [item.exercise_id for item in version.items]
    )
    return {
        "clinic_name": patient.clinic.name,
        "paper_size": patient.clinic.paper_size,
        "patient_name": patient.name,
        "therapist_name": therapist.name if therapist else None,
        "version": version.version,
        "starts_on": day_words(version.starts_on),
        "printed_on": day_words(today),
        "note": version.note,
        "exercises": [
            _exercise(item, own.get(item.exercise_id, [])) for item in version.items
        ],
    }


def qr_data_uri(link: str) -> str:
    """A QR code of `link` as a PNG data: URI (black on white, quiet zone)."""
    return segno.make(link, error="m").png_data_uri(scale=8, border=4)


def to_pdf(html: str) -> bytes:
    """The PDF of the handout's HTML. Only data: URIs are fetched: rendering
    never reaches the network or the disk."""
    # imported on first use: it loads Pango (half a second) and only this needs it
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
