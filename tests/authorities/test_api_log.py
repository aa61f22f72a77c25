import base64

import pytest
from django.urls import reverse

from portal import merkle, tlog
from portal.audit import entry_bytes, record_event
from portal.models import AuditEvent
from portal.signednote import Verifier, open_checkpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(karen):
    for n in range(6):
        record_event(action="api.decision", actor=karen, details={"n": n})
        if n in (2, 5):
            tlog.sequence()


def test_anyone_gets_the_latest_checkpoint_and_the_key_to_check_it(client, log):
    key = client.get(reverse("api:log_key"))
    note = client.get(reverse("api:log_checkpoint"))
    assert note.status_code == 200 and note["Content-Type"].startswith("text/plain")
    checkpoint = open_checkpoint(note.content.decode(), Verifier.parse(key.content.decode()), tlog.origin())
    assert checkpoint.size == 6


def test_there_is_no_checkpoint_before_the_first_batch(client, db):
    assert client.get(reverse("api:log_checkpoint")).status_code == 404


def test_an_inclusion_proof_verifies_against_the_published_root(client, log):
    response = client.get(reverse("api:log_inclusion"), {"index": 4, "size": 6})
    assert response.status_code == 200
    proof = [base64.b64decode(p) for p in response.json()["proof"]]
    event = AuditEvent.objects.get(log_leaf__index=4)
    root = bytes(tlog.latest_checkpoint().root_hash)
    assert merkle.verify_inclusion(4, 6, merkle.leaf_hash(entry_bytes(event)), proof, root)


def test_a_consistency_proof_links_the_two_checkpoints(client, log):
    response = client.get(reverse("api:log_consistency"), {"from": 3, "to": 6})
    assert response.status_code == 200
    proof = [base64.b64decode(p) for p in response.json()["proof"]]
    old, new = (bytes(tlog.root_at(size)) for size in (3, 6))
    assert merkle.verify_consistency(3, 6, proof, old, new)


@pytest.mark.parametrize(
    "name, query, field",
    [
        ("log_inclusion", {"index": 6, "size": 6}, "index"),
        ("log_inclusion", {"index": 0, "size": 7}, "size"),
        ("log_inclusion", {"index": "x", "size": 6}, "index"),
        ("log_inclusion", {"size": 6}, "index"),
        ("log_consistency", {"from": 5, "to": 3}, "from"),
        ("log_consistency", {"from": 1, "to": 99}, "to"),
        ("log_consistency", {"from": -1, "to": 3}, "from"),
    ],
)
def test_a_proof_outside_the_log_is_a_clear_400(client, log, name, query, field):
    response = client.get(reverse(f"api:{name}"), query)
    assert response.status_code == 400
    assert field in response.json()["errors"]
