"""A FHIR R4 Bundle for one patient: Patient, and Observations of their pain
check-ins, flare-ups (their pain score), ODI and PSFS scores."""

from collections.abc import Sequence
from datetime import datetime

from backend.models import FlareUp, OdiResponse, PainLog, PsfsResponse, User

LOINC = "http://loinc.org"
PAIN_LOINC = "72514-3"  # Pain severity - 0-10 verbal numeric rating [Score] - Reported
HOMEWARD_SYSTEM = "urn:homeward"
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
        }
    ]
}
PAIN_CODING = {
    "system": LOINC,
    "code": PAIN_LOINC,
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}


def _reference(patient: User) -> str:
    return f"Patient/{patient.id}"


def patient_resource(patient: User) -> dict:
    family, _, given = patient.name.rpartition(" ")
    return {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [
            {"system": f"{HOMEWARD_SYSTEM}:patient", "value": str(patient.id)}
        ],
        "active": patient.active,
        "name": [{"text": patient.name, "family": family or given, "given": [given]}],
        "telecom": [{"system": "email", "value": patient.email}],
    }


def pain_observation(patient: User, log: PainLog) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"pain-{log.id}",
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": [PAIN_CODING], "text": "Pain (0-10)"},
        "subject": {"reference": _reference(patient)},
        "effectiveDateTime": log.logged_on.isoformat(),
        "valueInteger": log.score,
        **({"note": [{"text": log.note}]} if log.note else {}),
    }


def odi_observation(patient: User, response: OdiResponse) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"odi-{response.id}",
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": f"{HOMEWARD_SYSTEM}:measure",
                    "code": "oswestry-disability-index",
                    "display": "Oswestry Disability Index",
                }
            ],
            "text": "Oswestry Disability Index (%)",
        },
        "subject": {"reference": _reference(patient)},
        "effectiveDateTime": response.taken_on.isoformat(),
        "valueQuantity": {
            "value": response.score_pct,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        },
        "interpretation": [{"text": response.band}],
    }


def flare_up_observation(patient: User, report: FlareUp) -> dict:
    """A flare-up as the pain score the patient gave it, on the day it
    started; what set it off and what helped in a note (the patient's own
    words in another)."""
    triggers = ", ".join(report.triggers) or "none named"
    helped = ", ".join(report.helped) or "none named"
    notes = [{"text": f"Flare-up. Triggers: {triggers}. Helped: {helped}."}]
    if report.note:
        notes.append({"text": report.note})
    return {
        "resourceType": "Observation",
        "id": f"flare-up-{report.id}",
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": [PAIN_CODING], "text": "Flare-up: pain (0-10)"},
        "subject": {"reference": _reference(patient)},
        "effectiveDateTime": report.started_on.isoformat(),
        "valueInteger": report.severity,
        "note": notes,
    }


def psfs_observation(patient: User, response: PsfsResponse) -> dict:
    """A Patient-Specific Functional Scale: the mean, each activity's score
    as a component."""
    return {
        "resourceType": "Observation",
        "id": f"psfs-{response.id}",
        "status": "final",
        "category": [SURVEY],
        "code": {
            "coding": [
                {
                    "system": f"{HOMEWARD_SYSTEM}:measure",
                    "code": "patient-specific-functional-scale",
                    "display": "Patient-Specific Functional Scale",
                }
            ],
            "text": "Patient-Specific Functional Scale (mean)",
        },
        "subject": {"reference": _reference(patient)},
        "effectiveDateTime": response.taken_on.isoformat(),
        "valueQuantity": {
            "value": response.mean,
            "unit": "score",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        },
        "component": [
            {"code": {"text": activity["name"]}, "valueInteger": activity["score"]}
            for activity in response.activities
        ],
    }


def bundle(
    patient: User,
    pain_logs: Sequence[PainLog],
    odi: Sequence[OdiResponse],
    generated_at: datetime,
    flare_ups: Sequence[FlareUp] = (),
    psfs: Sequence[PsfsResponse] = (),
) -> dict:
    resources = [patient_resource(patient)]
    resources += [pain_observation(patient, log) for log in pain_logs]
    resources += [flare_up_observation(patient, report) for report in flare_ups]
    resources += [odi_observation(patient, response) for response in odi]
    resources += [psfs_observation(patient, response) for response in psfs]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": generated_at.isoformat(timespec="seconds"),
        "entry": [
            {
                "fullUrl": f"{HOMEWARD_SYSTEM}:{r['resourceType']}/{r['id']}",
                "resource": r,
            }
            for r in resources
        ],
    }
