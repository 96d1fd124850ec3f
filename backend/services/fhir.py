"""A FHIR R4 Bundle for one patient: Patient, pain Observations, ODI Observations."""

from datetime import datetime

from backend.models import OdiResponse, PainLog, User

LOINC = "http://loinc.org"
PAIN_LOINC = "72514-3"  # Pain severity - 0-10 verbal numeric rating [Score] - Reported
HOMEWARD_SYSTEM = "urn:homeward"


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
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": LOINC,
                    "code": PAIN_LOINC,
                    "display": "Pain severity - 0-10 verbal numeric rating "
                    "[Score] - Reported",
                }
            ],
            "text": "Pain (0-10)",
        },
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


def bundle(
    patient: User,
    pain_logs: list[PainLog],
    odi: list[OdiResponse],
    generated_at: datetime,
) -> dict:
    resources = [patient_resource(patient)]
    resources += [pain_observation(patient, log) for log in pain_logs]
    resources += [odi_observation(patient, response) for response in odi]
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
