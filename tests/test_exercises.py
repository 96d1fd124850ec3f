"""The shipped library and clinic-private exercises."""

import json

import pytest

from backend.services.library import LIBRARY_FILE


def test_library_ships_stretches_core_work_and_heat_and_cold(world, patient):
    library = patient.get("/api/exercises").json
    assert len(library) >= 12
    by_category = {}
    for exercise in library:
        by_category.setdefault(exercise["category"], []).append(exercise["name"])
        assert len(exercise["instructions"]) > 80
    assert len(by_category["stretch"]) >= 4
    assert len(by_category["core"]) >= 4
    assert {"Heat", "Cold"} <= {name.split()[0] for name in by_category["modality"]}


def test_library_file_entries_are_complete():
    entries = json.loads(LIBRARY_FILE.read_text())
    slugs = [entry["slug"] for entry in entries]
    assert len(slugs) == len(set(slugs))
    for entry in entries:
        assert entry["default_sets"] >= 1 and entry["default_reps"] >= 1
        if entry["category"] == "modality":
            assert entry["default_hold_seconds"] >= 300  # minutes, as seconds


def test_filter_by_category_and_search_words(world, patient):
    core = patient.get("/api/exercises", query_string={"category": "core"}).json
    assert core and {e["category"] for e in core} == {"core"}
    found = patient.get("/api/exercises", query_string={"q": "bird"}).json
    assert [e["name"] for e in found] == ["Bird dog"]
    assert patient.get("/api/exercises", query_string={"q": "zzzz"}).json == []


def test_unknown_category_is_refused(world, patient):
    response = patient.get("/api/exercises", query_string={"category": "yoga"})
    assert response.status_code == 422
    assert "category" in response.json["errors"]["query"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("default_sets", 0),
        ("default_sets", 2.5),
        ("category", "yoga"),
        ("media_url", "javascript:alert(1)"),
        ("name", ""),
    ],
)
def test_bad_exercise_is_refused(world, therapist, field, value):
    body = {
        "name": "Wall angel",
        "category": "mobility",
        "body_region": "upper back",
        "instructions": "Slide your arms up the wall.",
    }
    before = len(therapist.get("/api/exercises").json)
    response = therapist.post("/api/exercises", json=body | {field: value})
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert len(therapist.get("/api/exercises").json) == before
