import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from authorities.post import services as post_services
from portal import tlog
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def peter_read_a_letter(client, login, active_mandate, karen, peter, skat):
    letter = post_services.send_letter(
        authority=skat, citizen=karen, subject="Restskat", body="Betal 100 kr."
    )
    login(client, peter)
    client.post(reverse("attorney:act_for"), {"grantor": karen.pk})
    client.get(reverse("authorities:letter", args=[letter.pk]))
    return letter


def test_karen_sees_what_peter_did_in_her_name(client, login, karen, peter, peter_read_a_letter):
    login(client, karen)
    response = client.get(reverse("authorities:done_in_my_name"))
    events = list(response.context["page"])
    assert [(e.actor, e.action) for e in events] == [(peter, "letter.read")]
    html = response.content.decode()
    assert "Peter Jensen" in html and "Restskat" in html


def test_her_own_actions_and_mandate_changes_are_not_listed_as_done_in_her_name(
    client, login, karen, active_mandate, skat
):
    letter = post_services.send_letter(authority=skat, citizen=karen, subject="Eget brev", body="x")
    login(client, karen)
    client.get(reverse("authorities:letter", args=[letter.pk]))
    assert list(client.get(reverse("authorities:done_in_my_name")).context["page"]) == []


def test_peter_sees_what_he_did_for_others(client, login, peter, karen, peter_read_a_letter):
    login(client, peter)
    events = list(client.get(reverse("authorities:done_for_others")).context["page"])
    assert [(e.principal, e.action) for e in events] == [(karen, "letter.read")]


def test_ole_sees_nothing_of_karens_history(client, login, ole, peter_read_a_letter):
    login(client, ole)
    assert list(client.get(reverse("authorities:done_in_my_name")).context["page"]) == []
    assert list(client.get(reverse("authorities:done_for_others")).context["page"]) == []


def test_history_filters_by_authority(client, login, karen, kommune, peter_read_a_letter):
    login(client, karen)
    assert (
        list(client.get(reverse("authorities:done_in_my_name"), {"authority": kommune.pk}).context["page"])
        == []
    )


def test_bad_filter_values_do_not_fail(client, login, karen, peter_read_a_letter):
    login(client, karen)
    response = client.get(reverse("authorities:done_in_my_name"), {"after": "not-a-date", "authority": "x"})
    assert response.status_code == 200


def test_each_entry_says_where_it_is_in_the_audit_log(client, login, karen, peter_read_a_letter):
    karen.preferred_language = "en"
    karen.save(update_fields=["preferred_language"])
    login(client, karen)
    client.cookies["django_language"] = "en"
    assert (
        "Waiting to be recorded in the log"
        in client.get(reverse("authorities:done_in_my_name")).content.decode()
    )
    tlog.sequence()
    event = client.get(reverse("authorities:done_in_my_name")).context["page"][0]
    html = client.get(reverse("authorities:done_in_my_name")).content.decode()
    assert f"Recorded in the log as entry {event.log_leaf.index}" in html
    assert reverse("log_entry_proof", args=[event.uuid]) in html


def test_the_log_proof_of_an_entry_checks_out_with_the_standalone_script(
    client, login, karen, peter_read_a_letter, tmp_path
):
    tlog.sequence()
    login(client, karen)
    event = client.get(reverse("authorities:done_in_my_name")).context["page"][0]
    proof = client.get(reverse("log_entry_proof", args=[event.uuid]))
    (tmp_path / "proof.json").write_bytes(proof.content)
    script = Path(__file__).resolve().parents[2] / "scripts" / "verify_log_entry.py"
    key = str(tlog.verifier())
    checked = subprocess.run(
        [sys.executable, script, tmp_path / "proof.json", key], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert f"Entry {event.log_leaf.index} is in the log" in checked.stdout
    assert "letter.read" in checked.stdout and karen.national_id not in checked.stdout

    forged = proof.json() | {"entry": proof.json()["entry"].replace("letter.read", "letter.sent")}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused = subprocess.run(
        [sys.executable, script, tmp_path / "forged.json", key], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0 and "NOT in the log" in refused.stderr


def test_nobody_else_gets_the_log_proof_of_an_entry(client, login, ole, karen, peter_read_a_letter):
    tlog.sequence()
    event = AuditEvent.objects.get(action="letter.read")
    login(client, ole)
    assert client.get(reverse("log_entry_proof", args=[event.uuid])).status_code == 404


def test_the_attorney_gets_the_log_proof_of_the_mandates_history(client, login, peter, karen, active_mandate):
    tlog.sequence()
    event = AuditEvent.objects.filter(
        target_type="powerofattorney", target_id=str(active_mandate.pk), actor=karen
    ).first()
    assert event.actor_id != peter.pk and event.principal_id != peter.pk
    login(client, peter)
    proof = client.get(reverse("log_entry_proof", args=[event.uuid]))
    assert proof.status_code == 200 and proof.json()["index"] == event.log_leaf.index
