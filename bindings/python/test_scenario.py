# Python tests of the generated bindings, against a live motcua-server: the citizen's
# whole journey (register, catalogue, search without diacritics, an offline draft with
# validation errors then fixed, submit while the server is down, delivery once when it is
# back, the status change after an officer acts), the app's own HTTP stack with a parked
# outbox item, the draft and session operations with their errors, and a field report
# drafted offline with two photos carrying GPS EXIF, sent once, cached and followed. Forms
# are filled generically from the core's form view (`typed`, `render`): no field key's
# kind is known to the test beforehand.
import asyncio
import base64
import datetime
import json
import os
import re
import urllib.request

import pytest

import motcua_ffi as m
from conftest import BRANCH, MemoryTokens, Recorder, UrllibTransport, config

BIRTH_REGISTRATION = "Đăng ký khai sinh"


def scan(path, seed: int, size: int = 40_000):
    """A file that looks like a PNG scan (the server checks the type), distinct per seed."""
    body = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + os.urandom(size - 8 - seed % 7)
    path.write_bytes(body)
    return str(path)


def birth_values():
    """Every required value of the birth registration form, valid today."""
    newborn = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
    address = {"province": "Hà Nội", "ward": "Phường Hoàn Kiếm", "street": "12 Hàng Bài"}
    return {
        "ho_ten": "Nguyễn Văn An",
        "so_cccd": "001099012345",
        "dien_thoai": "0912345678",
        "noi_cu_tru": address,
        "nguoi_nop": "ban_than",
        "quan_he": "cha",
        "tre_ho_ten": "Nguyễn Minh Khôi",
        "tre_ngay_sinh": newborn,
        "tre_gioi_tinh": "nam",
        "tre_dan_toc": "kinh",
        "noi_sinh_loai": "co_so_y_te",
        "ten_co_so_y_te": "Bệnh viện Phụ sản Hà Nội",
        "noi_sinh": {"province": "Hà Nội", "ward": "Phường Đống Đa"},
        "me_ho_ten": "Trần Thị Bình",
        "me_so_cccd": "001195012346",
        "me_ngay_sinh": "1995-05-20",
        "hinh_thuc_nhan": "truc_tiep",
        "cam_doan": True,
    }


def typed(field, value):
    """The typed value of a plain Python value for a field of the core's form view: the one
    place that maps the view's kinds to `FieldValue`, as an app's generic renderer does."""
    k = field.kind
    if k.is_TEXT() or k.is_CITIZEN_ID() or k.is_PHONE() or k.is_EMAIL():
        return m.FieldValue.TEXT(value=value)
    if k.is_NUMBER():
        return m.FieldValue.NUMBER(value=float(value))
    if k.is_DATE():
        return m.FieldValue.DATE(value=value)
    if k.is_SELECT():
        return m.FieldValue.CHOICES(values=value) if k.multiple else m.FieldValue.CHOICE(value=value)
    if k.is_CHECKBOX():
        return m.FieldValue.BOOL(value=value)
    if k.is_ADDRESS():
        return m.FieldValue.ADDRESS(province=value["province"], ward=value.get("ward", ""),
                                    ward_code=value.get("ward_code"), district=value.get("district"),
                                    street=value.get("street"))
    if k.is_GROUP():
        template = {f.key: f for f in k.template}
        return m.FieldValue.GROUP(items=[{key: typed(template[key], v) for key, v in item.items()} for item in value])
    raise AssertionError(f"{field.key}: files go through attach_file")


def render(fields, depth=0):
    """A text rendering of the visible fields, from the view alone (what a screen shows)."""
    lines = []
    for f in fields:
        if not f.visible:
            continue
        k = f.kind
        if k.is_DATE():
            assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", b) for b in (k.min, k.max) if b), (f.key, k)
        if k.is_SELECT():
            assert k.options and all(o.label for o in k.options), f.key
        lines.append("  " * depth + f"{f.label}{' *' if f.required else ''}: {f.value}"
                     + "".join(f" [{i.message}]" for i in f.issues))
        if k.is_GROUP():
            for item in k.items:
                lines.extend(render(item.fields, depth + 1))
    return lines


async def fill(client, draft_id, values):
    view = await client.form_view(draft_id)
    by_key = {f.key: f for f in view.fields}
    issues = []
    for key, value in values.items():
        issues = await client.set_field(draft_id, key, typed(by_key[key], value))
    return issues


async def attach_scans(client, draft_id, tmp_path):
    for i, field in enumerate(["tep_to_khai", "tep_giay_chung_sinh"]):
        f = await client.attach_file(draft_id, field, scan(tmp_path / f"{field}.png", i), f"{field}.png")
        assert f.field_key == field and f.size > 0 and len(f.sha256) == 64 and not f.uploaded


async def sync_until_sent(client, expected: int, seconds: float = 30):
    """What an app does when the network is back: pass over the outbox when items fall due."""
    deadline = asyncio.get_running_loop().time() + seconds
    sent = 0
    while True:
        report = await client.sync_outbox()
        sent += report.sent
        if report.pending == 0:
            assert sent == expected, report
            return report
        assert asyncio.get_running_loop().time() < deadline, f"outbox still pending: {report}"
        await asyncio.sleep(min((report.next_retry_in_ms or 100) / 1000, 2))


def issue_paths(issues):
    return {i.path: i.code for i in issues}


async def citizen_journey(server, tmp_path):
    tokens, events = MemoryTokens(), Recorder()
    client = await m.MotcuaClient.open(config(server.base_url, tmp_path / "phone"), tokens, None)
    client.set_listener(events)
    assert not client.is_signed_in()
    assert await client.current_user() is None

    pending = await client.register("001099012345", "0912345678", "Nguyễn Văn An", "matkhau12345")
    assert pending.phone == "0912345678" and pending.expires_in_secs > 0
    assert not client.is_signed_in(), "no account before the phone is verified"
    profile = await client.verify_phone(pending.verification_id, server.code_for("0912345678"))
    assert profile.role == m.Role.CITIZEN() and profile.full_name == "Nguyễn Văn An"
    assert client.is_signed_in() and tokens.tokens is not None and tokens.saves == 1
    assert (await client.current_user()).id == profile.id

    report = await client.sync_catalogue()
    assert report.changed >= 50 and not report.not_modified
    assert await client.catalogue_version() == report.version
    assert "ho_tich" in {f.code for f in await client.fields()}
    # The ward list of an address field: Hanoi's 126, also under an old province's name.
    wards = client.wards("Hà Nội")
    assert len(wards) == 126 and any(w.code == "00070" and w.name == "Phường Hoàn Kiếm" for w in wards)
    assert client.wards("Hà Giang") == client.wards("Tuyên Quang") and client.wards("Atlantis") == []

    found = await client.search_procedures("dang ky khai sinh", None, 5)
    assert found and found[0].name == BIRTH_REGISTRATION, [p.name for p in found]
    birth = found[0]
    assert not birth.nearest and birth.online_level in (m.OnlineLevel.FULL(), m.OnlineLevel.PARTIAL())
    nearest = await client.search_procedures("xyzzy", None, 3)
    assert nearest and all(p.nearest for p in nearest), "no empty page: the nearest procedures"
    assert [p.code for p in await client.search_procedures("khai sinh", "ho_tich", 0)][0] == birth.code
    detail = await client.procedure(birth.code)
    assert detail.item == birth and "tre_ngay_sinh" in {f["key"] for f in json.loads(detail.form_json)["fields"]}
    # Residence registration costs less online (as through the app) than at the counter.
    residence = (await client.procedure("1.004222")).item
    assert (residence.fee_vnd, residence.fee_online_vnd) == (20000, 10000), residence

    # Service points, cached for offline use.
    points = await client.sync_service_points()
    assert len(points) > 100 and any(p.code == BRANCH for p in points)

    # The phone goes offline: everything until the submit works without the server.
    server.stop()
    near = await client.service_points(21.0285, 105.8542, birth.code)
    assert near[0].distance_km < 5 and all(a.distance_km <= b.distance_km for a, b in zip(near, near[1:]))
    assert all(p.opening_hours for p in near if p.kind in ("head_office", "branch"))
    draft = await client.create_draft(birth.code)
    draft_id = draft.summary.id
    assert draft.summary.state == m.DraftState.EDITING
    # The form, rendered from the core's view alone (offline): labels, what shows, issues.
    view = await client.form_view(draft_id)
    assert view.editable and view.procedure_code == birth.code
    lines = render(view.fields)
    assert lines and all(line.strip() for line in lines)
    assert any(not f.visible for f in view.fields), "conditional fields are hidden until their condition holds"
    assert len([line for line in lines if not line.startswith(" ")]) == len([f for f in view.fields if f.visible])
    address = next(f for f in view.fields if f.kind.is_ADDRESS())
    assert address.kind.provinces == client.provinces() and "Hà Nội" in client.provinces()
    slot = next(f for f in view.fields if f.kind.is_ATTACHMENT())
    assert slot.kind.max_bytes == 10 * 1024 * 1024 and "application/pdf" in slot.kind.accepted_types
    by_key = {f.key: f for f in view.fields}
    await client.set_field(draft_id, "ho_ten", typed(by_key["ho_ten"], "A"))
    issues = await client.set_field(draft_id, "so_cccd", typed(by_key["so_cccd"], "12345"))
    paths = issue_paths(issues)
    assert paths["ho_ten"] == "too_short" and paths["so_cccd"] == "invalid_citizen_id", paths
    assert all(i.message for i in issues)
    with pytest.raises(m.MotcuaError.Validation) as refused:
        await client.submit_draft(draft_id)
    assert {"ho_ten", "so_cccd", "tep_to_khai"} <= {i.path for i in refused.value.fields}

    issues = await fill(client, draft_id, birth_values())
    assert issue_paths(issues) == {"tep_to_khai": "required", "tep_giay_chung_sinh": "required"}
    await attach_scans(client, draft_id, tmp_path)
    with pytest.raises(m.MotcuaError.Validation) as unknown_point:
        await client.set_branch(draft_id, "H99.99")
    assert [i.path for i in unknown_point.value.fields] == ["branch_code"]
    await client.set_branch(draft_id, BRANCH)
    assert await client.validate_draft(draft_id) == []
    resumed = await client.draft(draft_id)
    assert resumed.branch_code == BRANCH and len(resumed.files) == 2 and resumed.issues == []
    assert json.loads(resumed.values_json)["ho_ten"] == "Nguyễn Văn An"

    item = await client.submit_draft(draft_id)
    assert item.state == m.OutboxState.PENDING and item.draft_id == draft_id
    assert (await client.draft(draft_id)).summary.state == m.DraftState.QUEUED
    with pytest.raises(m.MotcuaError.Conflict):
        await client.set_field(draft_id, "ho_ten", m.FieldValue.TEXT(value="Người khác"))
    offline = await client.sync_outbox()
    assert offline.sent == 0 and offline.pending == 1 and offline.next_retry_in_ms is not None
    assert any(e.stage.is_RETRYING() for e in events.outbox_events)
    with pytest.raises(m.MotcuaError.Network):
        await client.refresh_dossiers()

    # The server is back (the app's connectivity callback): sent now, despite the backoff.
    server.start()
    now = await client.sync_now()
    assert (now.sent, now.pending) == (1, 0), now
    sent_events = [e.stage for e in events.outbox_events if e.stage.is_SENT()]
    assert len(sent_events) == 1
    dossier_id, dossier_code = sent_events[0].dossier_id, sent_events[0].dossier_code
    assert any(e.stage.is_UPLOADING() for e in events.outbox_events)
    again = await client.sync_outbox()
    assert again.sent == 0 and again.pending == 0
    outbox = await client.outbox()
    assert [(o.state, o.dossier_id) for o in outbox] == [(m.OutboxState.SENT, dossier_id)]
    assert (await client.draft(draft_id)).summary.state == m.DraftState.SENT

    mine = await client.refresh_dossiers()
    assert [(d.id, d.code, d.status) for d in mine] == [(dossier_id, dossier_code, m.DossierStatus.SUBMITTED())]
    officer = server.officer_token()
    status, queue = server.call("GET", "/api/v1/dossiers", token=officer)
    assert status == 200 and [d["id"] for d in queue["items"]] == [dossier_id], queue

    # The officer receives it; the citizen sees the new status.
    status, body = server.call("POST", f"/api/v1/dossiers/{dossier_id}/transitions", token=officer,
                               body={"action": "receive"})
    assert status == 200, body
    mine = await client.refresh_dossiers()
    received = m.DossierStatus.RECEIVED()
    assert [(d.id, d.status) for d in mine] == [(dossier_id, received)]
    assert mine[0].due_date is not None and mine[0].status_label and mine[0].deadline != m.DeadlineState.NOT_STARTED()
    assert [(c.dossier_id, c.to_status) for c in events.changes] == [(dossier_id, received)]
    assert [(d.id, d.status) for d in await client.dossiers()] == [(dossier_id, received)]
    full = await client.dossier(dossier_id)
    assert full.item.code == dossier_code and m.TimelineAction.RECEIVE() in [t.action for t in full.timeline]
    assert full.supplement_request is None
    assert json.loads(full.values_json)["tre_ho_ten"] == "Nguyễn Minh Khôi"
    # Anyone with the receipt follows it, without an account.
    anyone = await m.MotcuaClient.open(config(server.base_url, tmp_path / "anyone"), MemoryTokens(), None)
    tracked = await anyone.track_dossier(dossier_code, full.tracking_verifier)
    assert (tracked.code, tracked.status, tracked.status_label) == (dossier_code, received, "Đã tiếp nhận")
    assert tracked.steps[-1].status == received and tracked.due_date is not None
    with pytest.raises(m.MotcuaError.NotFound):
        await anyone.track_dossier(dossier_code, "0000" if full.tracking_verifier != "0000" else "1111")
    await anyone.shutdown()

    # The officer asks for a supplement; the citizen answers it offline, sent once.
    status, body = server.call("POST", f"/api/v1/dossiers/{dossier_id}/transitions", token=officer,
                               body={"action": "request_supplement", "note": "Bổ sung bản sao giấy chứng sinh"})
    assert status == 200, body
    request = (await client.dossier(dossier_id)).supplement_request
    assert request.note == "Bổ sung bản sao giấy chứng sinh" and not request.by_agency
    server.stop()
    answer = await client.start_supplement_answer(dossier_id, "Đã bổ sung")
    assert answer.summary.supplement_for == dossier_id and answer.issues == []
    assert all(f.uploaded for f in answer.files), "the dossier's files are on the server already"
    answer_view = await client.form_view(answer.summary.id)
    by_key = {f.key: f for f in answer_view.fields}
    assert by_key["tre_ho_ten"].value == m.FieldValue.TEXT(value="Nguyễn Minh Khôi")
    await client.set_field(answer.summary.id, "tre_ho_ten", typed(by_key["tre_ho_ten"], "Nguyễn Minh Khang"))
    await client.attach_file(answer.summary.id, "tep_giay_chung_sinh", scan(tmp_path / "ban-sao.png", 9), "ban-sao.png")
    await client.submit_draft(answer.summary.id)
    assert (await client.sync_outbox()).pending == 1
    server.start()
    assert (await client.sync_now()).sent == 1
    answered = await client.dossier(dossier_id)
    assert answered.supplement_request is None and answered.item.status == m.DossierStatus.IN_PROCESSING()
    assert json.loads(answered.values_json)["tre_ho_ten"] == "Nguyễn Minh Khang"
    assert [t.action for t in answered.timeline].count(m.TimelineAction.ANSWER_SUPPLEMENT()) == 1

    # The officer finishes it; the citizen rates it, once.
    with pytest.raises(m.MotcuaError.Conflict) as early:
        await client.rate_dossier(dossier_id, 5, None)
    assert early.value.reason == "not_returned_yet"
    for action in ["approve"]:
        status, body = server.call("POST", f"/api/v1/dossiers/{dossier_id}/transitions", token=officer,
                                   body={"action": action})
        assert status == 200, body
    # The officer attaches the signed decision; the citizen downloads it once returned.
    with pytest.raises(m.MotcuaError.NotFound):
        await client.download_result(dossier_id)
    decision = b"%PDF-1.7\n% Giay khai sinh ban chinh\n%%EOF\n"
    status, stored = server.upload(officer, "Giấy khai sinh.pdf", decision)
    assert status == 201, stored
    status, body = server.call("POST", f"/api/v1/dossiers/{dossier_id}/result", token=officer,
                               body={"attachment_id": stored["id"]})
    assert status == 200, body
    with pytest.raises(m.MotcuaError.Conflict) as not_yet:
        await client.download_result(dossier_id)
    assert not_yet.value.reason == "not_returned_yet"
    status, body = server.call("POST", f"/api/v1/dossiers/{dossier_id}/transitions", token=officer,
                               body={"action": "return_result"})
    assert status == 200, body
    result = await client.download_result(dossier_id)
    assert (result.file_name, result.content_type, result.bytes) == ("Giấy khai sinh.pdf", "application/pdf", decision)
    rated = await client.rate_dossier(dossier_id, 5, "Nhanh gọn")
    assert rated is not None, "queued while online"
    assert (rated.rating_score, rated.rating_comment, rated.item.status) == (5, "Nhanh gọn", m.DossierStatus.RESULT_RETURNED())
    with pytest.raises(m.MotcuaError.Conflict) as twice:
        await client.rate_dossier(dossier_id, 4, None)
    assert twice.value.reason == "already_rated"

    notes = await client.refresh_notifications()
    about = [n for n in notes if n.dossier_id == dossier_id]
    assert about and not about[0].read and about[0].kind == m.NotificationKind.DOSSIER_STATUS(), notes
    await client.mark_notification_read(about[0].id)
    assert [n.read for n in await client.notifications() if n.id == about[0].id] == [True]

    await client.logout()
    assert not client.is_signed_in() and tokens.tokens is None
    assert await client.list_drafts() == [] and await client.dossiers() == []
    await client.shutdown()


def test_citizen_files_a_dossier_offline_and_follows_it_to_received(server, tmp_path):
    asyncio.run(citizen_journey(server, tmp_path))


async def app_transport_and_parked_item(server, tmp_path):
    transport, events = UrllibTransport(), Recorder()
    client = await m.MotcuaClient.open(config(server.base_url, tmp_path / "phone"), MemoryTokens(), transport)
    client.set_listener(events)
    pending = await client.register("079305000001", "0912000001", "Lê Thị Cúc", "matkhau12345")
    await client.verify_phone(pending.verification_id, server.code_for("0912000001"))
    await client.sync_catalogue()
    assert ("POST", "/api/v1/auth/register") in transport.log
    assert ("POST", "/api/v1/auth/register/verify") in transport.log
    assert any(path.startswith("/api/v1/catalogue/changes") for _, path in transport.log)

    birth = (await client.search_procedures("Đăng ký khai sinh", None, 1))[0]
    draft_id = (await client.create_draft(birth.code)).summary.id
    await fill(client, draft_id, birth_values())
    await attach_scans(client, draft_id, tmp_path)
    await client.set_branch(draft_id, BRANCH)
    item = await client.submit_draft(draft_id)

    # A permanent refusal parks the item; the citizen may try again later.
    transport.inject["api/v1/dossiers"] = 403
    report = await client.sync_outbox()
    assert (report.sent, report.parked) == (0, 1)
    parked = (await client.outbox())[0]
    assert parked.state == m.OutboxState.PARKED and parked.park_reason == m.ParkReason.FORBIDDEN()
    assert any(e.stage.is_PARKED() for e in events.outbox_events)
    await client.retry_outbox_item(item.id)
    await sync_until_sent(client, expected=1)
    mine = await client.refresh_dossiers()
    assert len(mine) == 1
    withdrawn = await client.withdraw_dossier(mine[0].id, "Nộp nhầm")
    assert withdrawn.item.status == m.DossierStatus.WITHDRAWN() and withdrawn.timeline[-1].note == "Nộp nhầm"

    # A transport that cannot reach anything surfaces as Network.
    server.stop()
    with pytest.raises(m.MotcuaError.Network):
        await client.refresh_dossiers()
    await client.shutdown()


def test_app_transport_carries_requests_and_a_parked_item_is_retried(server, tmp_path):
    asyncio.run(app_transport_and_parked_item(server, tmp_path))


async def drafts_and_errors(server, tmp_path):
    # The core's own token stores: in memory, and in a file that outlives the client.
    assert m.memory_token_store().load() is None
    file_tokens = m.file_token_store(str(tmp_path / "tokens.json"))
    client = await m.MotcuaClient.open(config(server.base_url, tmp_path / "phone"), file_tokens, None)
    with pytest.raises(m.MotcuaError.SignedOut):
        await client.refresh_dossiers()
    with pytest.raises(m.MotcuaError.Validation) as weak:
        await client.register("001099012399", "0912000002", "Phạm Văn Dũng", "123")
    assert "password" in {i.path for i in weak.value.fields}
    pending = await client.register("001099012399", "0912000002", "Phạm Văn Dũng", "matkhau12345")
    code = server.code_for("0912000002")
    with pytest.raises(m.MotcuaError.Validation) as wrong:
        await client.verify_phone(pending.verification_id, "111111" if code != "111111" else "222222")
    assert {i.path for i in wrong.value.fields} == {"code"}
    await client.verify_phone(pending.verification_id, code)
    assert m.file_token_store(str(tmp_path / "tokens.json")).load().refresh_token
    # The number has an account now: registering it again answers alike (no Conflict that
    # would tell), and the owner gets a notice without a code.
    again = await client.register("001099012398", "0912000002", "Kẻ Mạo Danh", "matkhau12345")
    assert again.verification_id and again.expires_in_secs == pending.expires_in_secs
    assert not [w for w in re.split(r"\D+", server.last_sms("0912000002")) if len(w) == 6]
    await client.logout()
    profile = await client.login("0912000002", "matkhau12345")
    assert profile.citizen_id == "001099012399"
    with pytest.raises(m.MotcuaError.WrongCredentials) as wrong_password:
        await client.login("0912000002", "sai-mat-khau-1")
    assert "không đúng" in wrong_password.value.user_message
    # Wrong again and again: throttled, with the wait (not "no network").
    throttled = None
    for _ in range(12):
        try:
            await client.login("0912000002", "sai-mat-khau-1")
        except m.MotcuaError.WrongCredentials:
            continue
        except m.MotcuaError.Throttled as e:
            throttled = e
            break
    assert throttled is not None and throttled.retry_after_secs >= 1 and throttled.user_message
    with pytest.raises(m.MotcuaError.NotFound):
        await client.procedure("9.999999")
    await client.sync_catalogue()
    assert (await client.sync_catalogue()).changed == 0

    birth = (await client.search_procedures("khai sinh", None, 1))[0]
    draft_id = (await client.create_draft(birth.code)).summary.id
    with pytest.raises(m.MotcuaError.NotFound):
        await client.draft("no-such-draft")
    with pytest.raises(m.MotcuaError.FileNotFound) as no_file:
        await client.attach_file(draft_id, "tep_to_khai", str(tmp_path / "none.png"), "none.png")
    assert no_file.value.path == str(tmp_path / "none.png") and no_file.value.user_message
    # Values of another kind, attachment fields and files of the wrong type: field errors.
    with pytest.raises(m.MotcuaError.Validation) as wrong_kind:
        await client.set_field(draft_id, "ho_ten", m.FieldValue.BOOL(value=True))
    assert [(i.path, i.code) for i in wrong_kind.value.fields] == [("ho_ten", "wrong_type")]
    with pytest.raises(m.MotcuaError.Validation) as made_up:
        await client.set_field(draft_id, "tep_to_khai", m.FieldValue.FILES(file_ids=["made-up"]))
    assert [i.path for i in made_up.value.fields] == ["tep_to_khai"]
    exe = tmp_path / "scan.pdf"
    exe.write_bytes(b"MZ\x90\x00 not a scan")
    with pytest.raises(m.MotcuaError.Validation) as wrong_type:
        await client.attach_file(draft_id, "tep_to_khai", str(exe), "scan.pdf")
    assert [(i.path, i.code) for i in wrong_type.value.fields] == [("tep_to_khai", "invalid_file_type")]
    f = await client.attach_file(draft_id, "tep_to_khai", scan(tmp_path / "a.png", 3), "a.png")
    assert [x.id for x in (await client.draft(draft_id)).files] == [f.id]
    await client.remove_file(draft_id, f.id)
    assert (await client.draft(draft_id)).files == []

    await fill(client, draft_id, birth_values())
    await attach_scans(client, draft_id, tmp_path)
    item = await client.submit_draft(draft_id)
    with pytest.raises(m.MotcuaError.Conflict) as queued:
        await client.delete_draft(draft_id)
    assert queued.value.reason == "draft_queued" and queued.value.user_message
    await client.cancel_outbox_item(item.id)
    assert await client.outbox() == []
    assert (await client.draft(draft_id)).summary.state == m.DraftState.EDITING
    await client.delete_draft(draft_id)
    assert await client.list_drafts() == []
    # One client per data directory; a bad URL or language is refused.
    with pytest.raises(m.MotcuaError.StoreInUse):
        await m.MotcuaClient.open(config(server.base_url, tmp_path / "phone"), MemoryTokens(), None)
    bad_url = config("localhost:8080", tmp_path / "other")
    with pytest.raises(m.MotcuaError.Invalid) as refused_url:
        await m.MotcuaClient.open(bad_url, MemoryTokens(), None)
    assert refused_url.value.reason.startswith("base_url")
    bad_language = config(server.base_url, tmp_path / "other")
    bad_language.language = "fr"
    with pytest.raises(m.MotcuaError.Invalid):
        await m.MotcuaClient.open(bad_language, MemoryTokens(), None)
    await client.shutdown()
    with pytest.raises(m.MotcuaError.Closed) as closed:
        await client.list_drafts()
    assert closed.value.user_message
    # Defaults: language vi, the core's chunk size and timeout; a search of 20 at most.
    defaults = m.ClientConfig(base_url=server.base_url, data_dir=str(tmp_path / "phone"))
    assert (defaults.language, defaults.upload_chunk_size, defaults.request_timeout_ms) == ("vi", 0, 0)
    reopened = await m.MotcuaClient.open(defaults, MemoryTokens(), None)
    assert len(await reopened.search_procedures("dang ky")) == 20
    await reopened.shutdown()


def test_drafts_session_and_errors(server, tmp_path):
    asyncio.run(drafts_and_errors(server, tmp_path))


async def push_on_the_phone(server, tmp_path):
    tokens = MemoryTokens()
    client = await m.MotcuaClient.open(config(server.base_url, tmp_path / "phone"), tokens, None)
    # FCM's token arrives before anyone signs in: kept, then sent at sign-in.
    kept = await client.register_device("fcm-python-token-1", "android", "1.0.0")
    assert (kept.token, kept.platform, kept.sent) == ("fcm-python-token-1", "android", False)
    pending = await client.register("001099012377", "0912000077", "Đỗ Thị Hoa", "matkhau12345")
    await client.verify_phone(pending.verification_id, server.code_for("0912000077"))
    assert (await client.push_registration()).sent
    status, devices = server.call("GET", "/api/v1/devices", token=tokens.tokens.access_token)
    assert status == 200 and [d["token"] for d in devices] == ["fcm-python-token-1"], devices

    with pytest.raises(m.MotcuaError.Validation) as bad:
        await client.register_device("bad token", "symbian", "1.0.0")
    assert {i.path for i in bad.value.fields} == {"token", "platform"}

    # A delivered notification opens its dossier, and a second delivery shows nothing.
    data = {"notification_id": "n-42", "kind": "dossier", "id": "d-42"}
    message = await client.receive_push(data)
    assert message.notification_id == "n-42"
    assert message.target == m.PushTarget.DOSSIER(dossier_id="d-42")
    assert await client.receive_push(data) is None
    with pytest.raises(m.MotcuaError.Validation) as missing:
        await client.receive_push({"kind": "dossier", "id": "d-1"})
    assert [i.path for i in missing.value.fields] == ["notification_id"]

    settings = await client.notification_settings()
    assert settings.dossier_updates and settings.announcements
    settings.announcements = False
    assert not (await client.set_notification_settings(settings)).announcements
    await client.logout()
    assert not (await client.push_registration()).sent
    await client.shutdown()


def test_push_token_deep_links_and_settings(server, tmp_path):
    asyncio.run(push_on_the_phone(server, tmp_path))


# A real 32x24 JPEG (made with the `image` crate); `photo()` adds an APP1 Exif segment with
# GPS tags, as a phone's camera writes it.
SMALL_JPEG = base64.b64decode("/9j/4AAQSkZJRgABAgAAAQABAAD/wAARCAAYACADAREAAhEBAxEB/9sAQwAGBAUGBQQGBgUGBwcGCAoQCgoJCQoUDg8MEBcUGBgXFBYWGh0lHxobIxwWFiAsICMmJykqKRkfLTAtKDAlKCko/9sAQwEHBwcKCAoTCgoTKBoWGigoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDw200rp8tfZTxJx4XFm1aaV0+WuOeJPpcLizZtNK6fLXFPEn0mFxZtWmldPlrjniT6XC4so2mldPlreeIP5rwuLNm00rp8tcU8SfSYXFm1aaV0+WuOeJPpcLizZtNK6fLXHPEn0uFxZRtNK6fLW08SfzXhcWbVppXT5a454g+kwuLNm00rp8tcc8SfS4XFm1aaV0+WuKeJPpMLiz//2Q==")


def photo(path, seed: int):
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00GPSLatitude 21.0287 seed" + bytes([seed])
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    path.write_bytes(SMALL_JPEG[:2] + segment + SMALL_JPEG[2:])
    return str(path)


async def field_report(server, tmp_path):
    tokens, events = MemoryTokens(), Recorder()
    client = await m.MotcuaClient.open(config(server.base_url, tmp_path / "phone"), tokens, None)
    client.set_listener(events)
    pending = await client.register("001099012399", "0912345699", "Trần Văn Bảo", "matkhau12345")
    await client.verify_phone(pending.verification_id, server.code_for("0912345699"))

    draft = await client.create_report_draft()
    assert set(issue_paths(draft.issues)) == {"category", "description", "lat", "lng", "photos"}
    outside = m.ReportDraftInput(category="rac-thai", description="Rác thải đổ tràn ra lòng đường.",
                                 lat=10.7769, lng=106.7009, address="", hide_identity=False)
    assert issue_paths((await client.update_report_draft(draft.id, outside)).issues)["lat"] == "outside_service_area"
    lake = m.ReportDraftInput(category="rac-thai", description="Rác thải đổ tràn ra lòng đường.",
                              lat=21.0287, lng=105.8524, address="Phố Đinh Tiên Hoàng", hide_identity=True)
    await client.update_report_draft(draft.id, lake)
    first = await client.add_report_photo(draft.id, photo(tmp_path / "a.jpg", 1), "a.jpg")
    extra = await client.add_report_photo(draft.id, photo(tmp_path / "b.jpg", 2), "b.jpg")
    await client.remove_report_photo(draft.id, extra.id)
    await client.add_report_photo(draft.id, photo(tmp_path / "c.jpg", 3), "c.jpg")
    ready = await client.report_draft(draft.id)
    assert ready.issues == [] and len(ready.photos) == 2 and ready.photos[0].id == first.id
    assert [d.id for d in await client.report_drafts()] == [draft.id]

    # Queued while the server is down, delivered once when it is back.
    server.stop()
    item = await client.submit_report(draft.id)
    assert item.state == m.OutboxState.PENDING and item.draft_id == draft.id
    report = await client.sync_outbox()
    assert report.sent == 0 and report.pending == 1
    server.start()
    await sync_until_sent(client, 1)
    sent = await client.report_draft(draft.id)
    assert sent.state == m.DraftState.SENT and sent.report_id
    assert (await client.outbox())[0].report_id == sent.report_id
    stages = [e.stage for e in events.outbox_events]
    assert any(isinstance(s, m.OutboxStage.REPORT_SENT) and s.report_id == sent.report_id for s in stages), stages

    mine = await client.my_reports()
    assert [r.id for r in mine] == [sent.report_id] and mine[0].ward_code == "00070" and mine[0].status == "received"
    assert [r.id for r in await client.refresh_my_reports()] == [sent.report_id]
    followed = await client.follow_report(sent.report_id, True)
    assert [r.id for r in followed] == [sent.report_id] and followed[0].followed
    assert [r.id for r in await client.refresh_followed_reports()] == [sent.report_id]
    assert [r.id for r in await client.followed_reports()] == [sent.report_id]

    # The photos the public sees carry no EXIF.
    status, page = server.call("GET", "/api/v1/public/reports?bbox=105.80,21.00,105.90,21.05")
    assert status == 200
    url = page["features"][0]["properties"]["thumbnail_url"].replace("?size=thumbnail", "")
    with urllib.request.urlopen(server.base_url + url, timeout=10) as r:
        stored = r.read()
    assert stored.startswith(b"\xff\xd8") and b"Exif" not in stored and b"GPSLatitude" not in stored

    with pytest.raises(m.MotcuaError.Conflict):
        await client.submit_report(draft.id)
    other = await client.create_report_draft()
    await client.delete_report_draft(other.id)
    await client.shutdown()


def test_field_report_offline_with_photos_sent_once_and_followed(server, tmp_path):
    asyncio.run(field_report(server, tmp_path))
