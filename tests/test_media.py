"""A clinic's pictures and videos of exercises: what is accepted (by content),
what is refused with nothing stored, what is kept of a picture (not its
location), who may see the files, and byte ranges for video. Also the
shipped line drawings."""

import hashlib
import http.client
import io
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageFile
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.extensions import db
from backend.models import AuditEvent, ExerciseMedia
from backend.services import media
from backend.services.demo import DEMO_TOTP_SECRET
from tests.conftest import exercise_id, item, prescribe
from tests.serving import (
    Client,
    Gunicorn,
    app_env,
    flask_cli,
    fresh_database,
    migrate_and_seed,
    socket_inodes,
    tcp_sockets_on_port,
    worker_pids,
)

GPS = ExifTags.IFD.GPSInfo
MP4 = (
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"
    + b"\x00\x00\x00\x08free"
    + b"\x00\x00\x00\x08moov"
    + b"\x00\x00\x10\x08mdat"
    + bytes(range(256)) * 16
)
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04"
    b"\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x02\x42\x85\x81\x02"
    # a Segment of unknown size (as a browser records it), opening with Void
    + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff\xec\x48\x00"
    + bytes(range(256)) * 8
)


def jpeg_with_location(size=(64, 32), orientation=1) -> bytes:
    """A photo as a phone takes it: EXIF with GPS coordinates and an orientation."""
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Orientation] = orientation
    exif[GPS] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.0),
    }
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def upload(client, exercise, data: bytes, name="photo.jpg", mimetype="image/jpeg"):
    # encoded here in memory: the test client would spool a large body to a
    # temporary file that nothing closes
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(data), name, content_type=mimetype)}
    )
    return client.post(
        f"/api/exercises/{exercise}/media",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def stored(app):
    """stored() → (media rows, files in MEDIA_DIR): what an upload left behind."""

    def look():
        with app.app_context():
            rows = db.session.scalar(select(func.count()).select_from(ExerciseMedia))
            db.session.remove()
        folder = Path(app.config["MEDIA_DIR"])
        found = folder.rglob("*") if folder.exists() else []  # tmp/ too
        files = sorted(str(p.relative_to(folder)) for p in found if p.is_file())
        return rows, files

    return look


@pytest.fixture(autouse=True)
def _empty_media_dir(app):
    yield
    shutil.rmtree(app.config["MEDIA_DIR"], ignore_errors=True)


def test_a_photo_is_stored_upright_at_two_sizes_without_its_location(
    world, therapist, patient, stored
):
    knee = exercise_id(therapist)
    original = jpeg_with_location(size=(1200, 600), orientation=6)  # taken sideways
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS)
    response = upload(therapist, knee, original)
    assert response.status_code == 201, response.json
    media = response.json
    assert (media["kind"], media["content_type"]) == ("image", "image/webp")
    assert (media["width"], media["height"]) == (600, 1200)  # turned upright
    assert media["url"] != media["thumb_url"]
    assert stored() == (1, sorted([media["url"][7:], media["thumb_url"][7:]]))

    for url in (media["url"], media["thumb_url"]):
        served = patient.get(url)  # the clinic's patients see it
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert "immutable" in served.headers["Cache-Control"]
        kept = Image.open(io.BytesIO(served.data))
        assert not kept.getexif()  # no camera, no time, no location
        assert b"PhoneCo" not in served.data and b"GPS" not in served.data
    listed = therapist.get(f"/api/exercises/{knee}").json["media"]
    assert [m["id"] for m in listed] == [media["id"]]


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: encoded(Image.new("RGBA", (20, 20), (0, 0, 255, 90)), "PNG"), "a.png"),
        (lambda: encoded(Image.new("RGB", (20, 20), "green"), "WEBP"), "a.webp"),
        (
            lambda: encoded(
                pillow_heif.from_pillow(Image.new("RGB", (20, 20), "red")).to_pillow(),
                "HEIF",
            ),
            "a.heic",
        ),
    ],
)
def test_png_webp_and_heic_pictures_are_accepted(world, therapist, make, name):
    response = upload(therapist, exercise_id(therapist), make(), name, "image/png")
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "image"
    assert therapist.get(response.json["url"]).mimetype == "image/webp"


def bad_files():
    photo = jpeg_with_location()
    bomb = encoded(Image.new("1", (9000, 9000)), "PNG")  # 81 million pixels, tiny
    return [
        ("truncated", photo[: len(photo) // 2], "photo.jpg", "image/jpeg", 422),
        (
            "executable",
            b"\x7fELF\x02\x01\x01" + bytes(4000),
            "photo.jpg",
            "image/jpeg",
            415,
        ),
        (
            "disguised svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "photo.png",
            "image/png",
            415,
        ),
        ("empty", b"", "photo.jpg", "image/jpeg", 422),
        ("bomb", bomb, "huge.png", "image/png", 422),
        ("big picture", photo + bytes(10 * 2**20), "big.jpg", "image/jpeg", 413),
        ("big video", MP4 + bytes(50 * 2**20), "big.mp4", "video/mp4", 413),
        ("huge upload", MP4 + bytes(52 * 2**20), "huge.mp4", "video/mp4", 413),
    ]


@pytest.mark.parametrize(
    ("case", "data", "name", "mimetype", "status"),
    bad_files(),
    ids=[case[0] for case in bad_files()],
)
def test_bad_files_get_a_clear_4xx_and_nothing_is_stored(
    world, therapist, stored, case, data, name, mimetype, status
):
    knee = exercise_id(therapist)
    response = upload(therapist, knee, data, name, mimetype)
    assert response.status_code == status, response.json
    assert response.json["message"]  # in words
    assert stored() == (0, [])


def test_a_request_without_a_file_is_a_422(world, therapist):
    knee = exercise_id(therapist)
    response = therapist.post(
        f"/api/exercises/{knee}/media", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "file" in response.json["errors"]["files"]


def test_a_form_part_without_a_readable_name_is_a_400(world, therapist, stored):
    knee = exercise_id(therapist)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="a\\"\r\n\r\nx\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + jpeg_with_location() + b"\r\n--b--\r\n"
    )
    response = therapist.post(
        f"/api/exercises/{knee}/media",
        data=body,
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 400
    assert response.json["message"] == "Every part of the form needs a name."
    assert stored() == (0, [])


def test_replace_and_delete_keep_no_orphan_files_and_are_audited(
    app, world, therapist, admin, stored
):
    knee = exercise_id(therapist)
    first = upload(therapist, knee, jpeg_with_location()).json
    replaced = therapist.put(
        f"/api/exercises/{knee}/media/{first['id']}",
        data={"file": (io.BytesIO(encoded(Image.new("RGB", (9, 9)), "PNG")), "b.png")},
        content_type="multipart/form-data",
    )
    assert replaced.status_code == 200, replaced.json
    assert replaced.json["id"] == first["id"] and replaced.json["url"] != first["url"]
    assert therapist.get(first["url"]).status_code == 404
    kept = {replaced.json["url"][7:], replaced.json["thumb_url"][7:]}
    assert stored() == (1, sorted(kept))  # the first picture's files are gone

    # the clinic admin may manage them too
    assert admin.delete(f"/api/exercises/{knee}/media/{first['id']}").status_code == 204
    assert stored() == (0, [])
    assert therapist.get(replaced.json["url"]).status_code == 404
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("exercises.%"))
        ).all()
    assert sorted(actions) == [
        "exercises.delete_media",
        "exercises.replace_media",
        "exercises.upload_media",
    ]


def test_one_video_per_exercise_a_new_one_replaces_it(world, therapist, stored):
    knee = exercise_id(therapist)
    mp4 = upload(therapist, knee, MP4, "a.mp4", "video/mp4")
    assert mp4.status_code == 201 and mp4.json["content_type"] == "video/mp4"
    webm = upload(therapist, knee, WEBM, "b.webm", "video/webm")
    assert webm.status_code == 201 and webm.json["content_type"] == "video/webm"
    media = therapist.get(f"/api/exercises/{knee}").json["media"]
    assert [m["kind"] for m in media] == ["video"]
    assert media[0]["id"] == webm.json["id"]
    assert stored() == (1, [webm.json["url"][7:]])


def test_a_video_answers_byte_ranges(world, therapist, patient):
    knee = exercise_id(therapist)
    video = upload(therapist, knee, MP4, "a.mp4", "video/mp4").json
    whole = patient.get(video["url"])
    assert whole.status_code == 200 and whole.data == MP4
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = patient.get(video["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(MP4)}"
    assert part.data == MP4[100:200]


def test_pictures_are_limited_per_exercise(world, therapist, stored):
    knee = exercise_id(therapist)
    for colour in range(6):
        picture = encoded(Image.new("RGB", (8, 8), (colour * 40, 0, 0)), "PNG")
        assert upload(therapist, knee, picture, "p.png").status_code == 201
    seventh = upload(therapist, knee, encoded(Image.new("RGB", (8, 8)), "PNG"), "p.png")
    assert seventh.status_code == 409 and "6 pictures" in seventh.json["message"]
    assert stored()[0] == 6


def test_another_clinics_media_is_a_404_and_patients_cannot_upload(
    app, world, therapist, patient, signed_in, anonymous
):
    knee = exercise_id(therapist)
    media = upload(therapist, knee, jpeg_with_location()).json
    other = signed_in("therapist_b")
    assert other.get(media["url"]).status_code == 404
    assert other.get(f"/api/exercises/{knee}").json["media"] == []
    assert other.delete(f"/api/exercises/{knee}/media/{media['id']}").status_code == 404
    assert (
        other.put(
            f"/api/exercises/{knee}/media/{media['id']}",
            data={"file": (io.BytesIO(MP4), "a.mp4")},
            content_type="multipart/form-data",
        ).status_code
        == 404
    )
    assert anonymous.get(media["url"]).status_code == 401
    assert upload(patient, knee, jpeg_with_location()).status_code == 403
    # a clinic's own exercise is not another clinic's to illustrate
    own = therapist.post(
        "/api/exercises",
        json={
            "name": "Clinic A's wall slide",
            "category": "mobility",
            "body_region": "back",
            "instructions": "Slide down the wall.",
            "default_sets": 1,
            "default_reps": 5,
            "default_hold_seconds": 0,
        },
    ).json
    assert upload(other, own["id"], jpeg_with_location()).status_code == 404
    assert upload(therapist, own["id"], jpeg_with_location()).status_code == 201


def test_the_routine_carries_the_clinics_media_and_the_shipped_drawing(
    world, therapist, patient, signed_in
):
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee)])
    media = upload(therapist, knee, jpeg_with_location()).json
    [routine_item] = patient.get(f"/api/patients/{world.patient_a}/routine").json[
        "items"
    ]
    exercise = routine_item["exercise"]
    assert [m["url"] for m in exercise["media"]] == [media["url"]]
    assert (
        exercise["media"][0] == therapist.get(f"/api/exercises/{knee}").json["media"][0]
    )
    drawing = exercise["illustration"]
    assert drawing["url"].endswith("/knee-to-chest.svg") and "knee" in drawing["alt"]
    svg = patient.get(drawing["url"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "immutable" in svg.headers["Cache-Control"]
    assert b"<svg" in svg.data
    assert patient.get("/media/library/0/no-such-exercise.svg").status_code == 404


def test_each_item_of_the_routine_has_its_own_media_pictures_first(
    world, therapist, patient, signed_in
):
    knee, tilt, camel = (
        exercise_id(therapist, name) for name in ("knee-to-chest", "pelvic", "cat")
    )
    prescribe(therapist, world.patient_a, [item(knee), item(tilt), item(camel)])
    video = upload(therapist, knee, MP4, "a.mp4", "video/mp4").json
    pictures = [
        upload(therapist, knee, jpeg_with_location(size)).json
        for size in ((64, 32), (32, 64))
    ]
    # another clinic's picture of the same shipped exercise is theirs alone
    theirs = upload(signed_in("therapist_b"), camel, jpeg_with_location())
    assert theirs.status_code == 201
    items = patient.get(f"/api/patients/{world.patient_a}/routine").json["items"]
    assert [i["exercise_id"] for i in items] == [knee, tilt, camel]
    assert [[m["id"] for m in i["exercise"]["media"]] for i in items] == [
        [pictures[0]["id"], pictures[1]["id"], video["id"]],
        [],
        [],
    ]
    # as the library shows them (services/media.py: one order, one owner)
    assert (
        items[0]["exercise"]["media"]
        == (therapist.get(f"/api/exercises/{knee}").json["media"])
    )


def test_every_shipped_exercise_has_a_drawing_with_alt_text(world, therapist):
    exercises = therapist.get("/api/exercises").json
    shipped = [e for e in exercises if e["clinic_id"] is None]
    assert len(shipped) == 22
    for exercise in shipped:
        drawing = exercise["illustration"]
        assert drawing is not None, exercise["name"]
        assert len(drawing["alt"]) > 40
        assert therapist.get(drawing["url"]).status_code == 200


# -- reliability: pixels, containers, quota, a full disk, leftovers, races ----


def test_a_24_megapixel_picture_is_refused_from_its_header(
    world, therapist, stored, monkeypatch
):
    decoded = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda image: (decoded.append(image), load(image))
    )
    big = encoded(Image.new("1", (6300, 6300)), "PNG")  # 39.7 million, ~5 KB
    response = upload(therapist, exercise_id(therapist), big, "big.png", "image/png")
    assert response.status_code == 422, response.json
    assert "24 million" in response.json["message"]
    assert decoded == []
    assert stored() == (0, [])


def test_pictures_are_decoded_one_at_a_time():
    assert media.DECODING.acquire(blocking=False)
    try:
        assert not media.DECODING.acquire(blocking=False)
    finally:
        media.DECODING.release()


@pytest.mark.parametrize(
    "data",
    [
        MP4[:24] + b"only the first bytes of an MP4 " * 100,
        MP4[:24] + b"\x00\x00\x00\x08free",  # boxes, but no movie in them
        MP4[:-1],  # the last box cut short
        WEBM[:40] + b"not a segment" * 100,
    ],
    ids=["garbage", "no moov", "truncated", "webm garbage"],
)
def test_a_video_that_does_not_parse_is_refused(world, therapist, stored, data):
    response = upload(therapist, exercise_id(therapist), data, "v.mp4", "video/mp4")
    assert response.status_code == 422, response.json
    assert "damaged" in response.json["message"]
    assert stored() == (0, [])


def test_a_clinic_over_its_media_quota_gets_413(
    app, world, therapist, stored, monkeypatch
):
    monkeypatch.setitem(app.config, "MEDIA_QUOTA_BYTES", len(MP4) + 1000)
    knee, bird = exercise_id(therapist), exercise_id(therapist, "bird")
    assert upload(therapist, knee, MP4, "a.mp4", "video/mp4").status_code == 201
    refused = upload(therapist, bird, MP4 + b"\0", "b.mp4", "video/mp4")
    assert refused.status_code == 413, refused.json
    assert "delete some before uploading more" in refused.json["message"]
    assert stored()[0] == 1


@pytest.fixture
def small_disk(app, tmp_path, monkeypatch):
    """MEDIA_DIR on a 2 MB tmpfs of its own."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(mount_point))
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_is_a_507_that_leaves_nothing(world, therapist, small_disk):
    knee = exercise_id(therapist)
    filler = small_disk / "filler"
    with open(filler, "wb") as file:
        try:
            while True:
                file.write(bytes(64 * 1024))
                file.flush()
        except OSError:
            pass
    for data, name, kind in [
        (MP4, "a.mp4", "video/mp4"),
        (jpeg_with_location(), "a.jpg", "image/jpeg"),
    ]:
        response = upload(therapist, knee, data, name, kind)
        assert response.status_code == 507, response.json
        assert "disk is full" in response.json["message"]
    left = sorted(str(p.relative_to(small_disk)) for p in small_disk.rglob("*"))
    assert left == ["filler", "tmp"]

    filler.unlink()  # space freed
    assert upload(therapist, knee, MP4, "a.mp4", "video/mp4").status_code == 201


def test_leftovers_are_listed_by_media_check_and_swept(app, world, therapist, stored):
    knee = exercise_id(therapist)
    kept = upload(therapist, knee, MP4, "a.mp4", "video/mp4").json["url"][7:]
    folder = Path(app.config["MEDIA_DIR"])
    stale_temp = folder / "tmp" / "upload-stale"
    fresh_temp = folder / "tmp" / "upload-fresh"
    orphan = folder / ("0" * 64 + ".webp")
    for path in (stale_temp, fresh_temp, orphan):
        path.write_bytes(b"left over")
    hours_ago = time.time() - 2 * 3600
    for path in (stale_temp, orphan, folder / kept):
        os.utime(path, (hours_ago, hours_ago))

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["media", "check"])
    assert listed.exit_code == 0, listed.output
    assert "tmp/upload-stale" in listed.output and orphan.name in listed.output
    assert kept not in listed.output and "upload-fresh" not in listed.output
    assert stale_temp.exists() and orphan.exists()  # a dry run

    with app.app_context():
        assert media.sweep() == 2
    assert not stale_temp.exists() and not orphan.exists()
    assert fresh_temp.exists() and (folder / kept).exists()
    deleted = runner.invoke(args=["media", "check", "--delete"])
    assert "Nothing left over" in deleted.output, deleted.output


def test_concurrent_uploads_never_pass_the_picture_limit(app, world, signed_in, stored):
    therapist = signed_in("therapist_a")
    knee = exercise_id(therapist)
    for colour in range(4):
        picture = encoded(Image.new("RGB", (8, 8), (colour * 40, 0, 0)), "PNG")
        assert upload(therapist, knee, picture, "p.png").status_code == 201
    clients = [signed_in("therapist_a") for _ in range(6)]
    start, answers = threading.Barrier(len(clients)), []

    def send(client, number):
        picture = encoded(Image.new("RGB", (8, 8), (0, number * 40, 0)), "PNG")
        start.wait()
        answers.append(upload(client, knee, picture, "p.png").status_code)

    threads = [
        threading.Thread(target=send, args=(client, number))
        for number, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [201, 201, 409, 409, 409, 409], answers
    assert stored()[0] == media.MAX_IMAGES


def big_mp4(megabytes: int) -> bytes:
    """An MP4 whose top level parses, its mdat `megabytes` of its own noise."""
    payload = os.urandom(megabytes * 2**20)
    return MP4[:40] + (8 + len(payload)).to_bytes(4, "big") + b"mdat" + payload


def send_upload(client, exercise: int, video: bytes) -> http.client.HTTPConnection:
    """POST the video as the PWA does (multipart), written 1 MB at a time on
    the client's own connection; the reply is left to read."""
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(video), "v.mp4", content_type="video/mp4")}
    )
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
    connection.putrequest("POST", f"/api/exercises/{exercise}/media")
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(body)),
        "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
        "X-CSRF-Token": client.csrf,
        "Accept": "application/json",
        "Connection": "close",
    }
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    for start in range(0, len(body), 2**20):
        connection.send(body[start : start + 2**20])
    return connection


def handling(server) -> int:
    """The gunicorn worker that accepted the one client connection open on its
    port (waiting for it to be accepted)."""
    while True:
        established = {
            inode
            for inode, state in tcp_sockets_on_port(server.port).items()
            if state == "ESTABLISHED"
        }
        holders = [p for p in worker_pids(server) if socket_inodes(p) & established]
        if holders:
            (pid,) = holders
            return pid
        time.sleep(0.01)


def sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    while (
        Path(f"/proc/{pid}").exists()
        and "Z"
        not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:1]
    ):
        time.sleep(0.01)


@pytest.mark.serving
def test_uploads_killed_midway_leave_files_the_sweep_removes(make_app, tmp_path):
    folder = tmp_path / "media"
    temp = folder / "tmp"
    with fresh_database(tmp_path) as url:
        env = app_env(url, tmp_path / "run", MEDIA_DIR=str(folder))
        migrate_and_seed(env, patients=1)
        here = make_app(SQLALCHEMY_DATABASE_URI=url, MEDIA_DIR=str(folder))
        with Gunicorn(env, tmp_path / "gunicorn.log") as server, here.app_context():
            therapist = Client(server.port).login(
                "therapist@demo.test", totp_secret=DEMO_TOTP_SECRET
            )
            exercises = therapist.call("GET", "/api/exercises")
            knee = exercises.body[0]["id"]
            # another upload of this exercise is committing: each upload below
            # stores its file, then waits for the exercise before its row
            media.lock_exercise(knee)

            # killed while the video is copied into MEDIA_DIR/tmp/; a kill that
            # lands just after the copy leaves a whole file instead: again
            for _attempt in range(3):
                copying = send_upload(therapist, knee, big_mp4(45))
                worker = handling(server)
                while not list(temp.glob("upload-*")):
                    time.sleep(0.001)
                sigkill(worker)
                with pytest.raises((ConnectionError, http.client.HTTPException)):
                    copying.getresponse()
                copying.close()
                if list(temp.iterdir()):
                    break
            (left_temp,) = temp.iterdir()

            # killed after the video is in MEDIA_DIR, before its row
            video = big_mp4(1)
            stored = folder / f"{hashlib.sha256(video).hexdigest()}.mp4"
            waiting = send_upload(therapist, knee, video)
            worker = handling(server)
            while not stored.exists():
                time.sleep(0.001)
            sigkill(worker)
            with pytest.raises((ConnectionError, http.client.HTTPException)):
                waiting.getresponse()
            waiting.close()
            db.session.rollback()  # the other upload is done

            assert db.session.scalar(select(func.count(ExerciseMedia.id))) == 0
            whole = [path for path in folder.iterdir() if path.is_file()]
            assert left_temp.exists() and stored in whole
            # within the hour an upload may still be committing: not listed
            assert "Nothing left over" in flask_cli(env, "media", "check")
            hours_ago = time.time() - 2 * 3600
            for path in (left_temp, *whole):
                os.utime(path, (hours_ago, hours_ago))
            listed = flask_cli(env, "media", "check")
            assert f"temp file: tmp/{left_temp.name}" in listed, listed
            for path in whole:
                assert f"unreferenced: {path.name}" in listed, listed

            # what the worker runs every hour
            assert media.sweep() == 1 + len(whole)
            db.session.remove()
            assert not list(temp.iterdir()) and not stored.exists()
            assert "Nothing left over" in flask_cli(env, "media", "check")

            again = send_upload(therapist, knee, video)
            reply = therapist.receive(again)
            assert reply.status == 201, reply
            assert stored.exists() and not list(temp.iterdir())
            assert "Nothing left over" in flask_cli(env, "media", "check")
        with here.app_context():
            db.engine.dispose()
