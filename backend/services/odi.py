"""Oswestry Disability Index scoring, exactly as the API contract defines it.

score = Σ answers / (5 × answered sections) × 100, with at least 8 of the 10
sections answered; bands 0–20 minimal, 21–40 moderate, 41–60 severe,
61–80 crippling, 81–100 bed-bound. A score between two bands' integers (e.g.
20.5) belongs to the higher band, since it is above the lower band's top.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

SECTIONS = 10
MIN_ANSWERED = 8
BANDS = ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippling"))


class TooFewAnswers(ValueError):
    pass


@dataclass(frozen=True)
class OdiScore:
    score_pct: float
    band: str
    answered: int


def band_for(score_pct: float) -> str:
    for top, band in BANDS:
        if score_pct <= top:
            return band
    return "bed-bound"


def score(answers: list[int | None]) -> OdiScore:
    """Score ten answers (0..5 or None for a skipped section)."""
    if len(answers) != SECTIONS:
        raise ValueError(f"expected {SECTIONS} answers, got {len(answers)}")
    given = [answer for answer in answers if answer is not None]
    if len(given) < MIN_ANSWERED:
        raise TooFewAnswers(
            _(
                "At least %(least)s of %(sections)s sections must be answered.",
                least=MIN_ANSWERED,
                sections=SECTIONS,
            )
        )
    pct = round(sum(given) / (5 * len(given)) * 100, 1)
    return OdiScore(score_pct=pct, band=band_for(pct), answered=len(given))
