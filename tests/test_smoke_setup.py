def test_world_patient_can_sign_in_and_read_self(world, patient):
    response = patient.get(f"/api/patients/{world.patient_a}")
    assert response.status_code == 200
    assert response.json["email"] == "pat@a.test"
