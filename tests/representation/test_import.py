"""The register import: idempotent, diff-based, one transaction per file, malformed lines skipped."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from attorney import policy
from authorities.models import CitizenFileUserObjectPermission
from portal.models import AuditEvent
from representation import projection, tasks
from representation.models import COPENHAGEN, Kind, RegisterImport, Representation

from .conftest import BENT, EMMA, LONE, MARIA, custody_line, guardianship_line, run_import

pytestmark = pytest.mark.django_db


def state():
    """Everything an import may change, to compare before and after."""
    return (
        sorted(
            Representation.objects.values_list(
                "kind", "represented_national_id", "representative_national_id", "valid_until", "ended_at"
            )
        ),
        CitizenFileUserObjectPermission.all_rows.count(),
    )


def test_an_extract_adds_its_relations_and_their_permission_rows(catalogue, emma, peter, bent, lone):
    result = run_import(custody_line(EMMA, peter.national_id), guardianship_line(BENT, LONE))
    assert result.counts() == {"added": 2, "changed": 0, "ended": 0, "unchanged": 0, "rejected": 0}
    assert Representation.objects.filter(kind=Kind.PARENTAL_CUSTODY).get().source == "register"
    # Custody: read_mail and kommune_mail (for custodians); guardianship of financial matters:
    # read_mail and tax_statement.
    assert CitizenFileUserObjectPermission.all_rows.filter(user=peter).count() == 2
    assert CitizenFileUserObjectPermission.all_rows.filter(user=lone).count() == 2


def test_running_the_same_extract_again_changes_nothing(catalogue, emma, peter, bent, lone):
    lines = [custody_line(EMMA, peter.national_id), guardianship_line(BENT, LONE)]
    run_import(*lines)
    before, events = state(), AuditEvent.objects.exclude(action="representation.register_imported").count()
    result = run_import(*lines)
    assert result.counts() == {"added": 0, "changed": 0, "ended": 0, "unchanged": 2, "rejected": 0}
    assert state() == before
    assert AuditEvent.objects.exclude(action="representation.register_imported").count() == events


def test_a_relation_missing_from_the_next_extract_ends_with_its_rows(catalogue, emma, peter, maria):
    run_import(custody_line(EMMA, peter.national_id), custody_line(EMMA, MARIA))
    result = run_import(custody_line(EMMA, MARIA))
    assert result.counts() == {"added": 0, "changed": 0, "ended": 1, "unchanged": 1, "rejected": 0}
    ended = Representation.objects.get(representative_national_id=peter.national_id)
    assert ended.ended_at is not None
    assert not CitizenFileUserObjectPermission.all_rows.filter(user=peter).exists()
    assert not policy.can_act_for(peter, emma, catalogue["read_mail"])
    # The other custodian acts on, independently.
    assert policy.can_act_for(maria, emma, catalogue["read_mail"])


def test_a_relation_back_in_a_later_extract_starts_again_as_a_new_one(catalogue, emma, peter):
    run_import(custody_line(EMMA, peter.national_id))
    run_import()
    result = run_import(custody_line(EMMA, peter.national_id))
    assert result.added == 1
    assert Representation.objects.count() == 2
    assert policy.can_act_for(peter, emma, catalogue["read_mail"])


def test_a_newer_sequence_changes_the_relation_and_its_rows(catalogue, bent, lone):
    run_import(guardianship_line(BENT, LONE, scope="financial", sequence=1))
    result = run_import(guardianship_line(BENT, LONE, scope="personal", sequence=2))
    assert result.changed == 1
    assert Representation.objects.get().scope == "personal"
    assert policy.can_act_for(lone, bent, catalogue["kommune_mail"])
    assert not policy.can_act_for(lone, bent, catalogue["read_mail"])


def test_a_change_without_a_newer_sequence_is_rejected_and_the_relation_kept(catalogue, bent, lone):
    run_import(guardianship_line(BENT, LONE, scope="financial", sequence=5))
    result = run_import(guardianship_line(BENT, LONE, scope="both", sequence=5))
    assert (result.rejected, result.ended, result.changed) == (1, 0, 0)
    assert result.rejections[0][0] == 1
    assert Representation.objects.get().scope == "financial"


def test_malformed_lines_are_reported_by_number_and_the_rest_is_imported(catalogue, emma, peter, bent, lone):
    result = run_import(
        custody_line(EMMA, peter.national_id),
        "not json at all",
        '{"type": "parental_custody", "child": "3102121234", "custodian": "1503752345", "from": "2012-02-01", "to": null, "sequence": 1}',
        guardianship_line(BENT, LONE, scope="everything"),
        "[1, 2]",
        "",
        custody_line(EMMA, peter.national_id),
        guardianship_line(BENT, "2209791679", start="2025-13-01"),
    )
    numbers = [number for number, _message in result.rejections]
    assert numbers == [2, 3, 4, 5, 7, 8]
    assert result.added == 1 and result.rejected == 6
    assert Representation.objects.count() == 1
    assert policy.can_act_for(peter, emma, catalogue["read_mail"])
    imported = RegisterImport.objects.get()
    assert [entry["line"] for entry in imported.rejections] == numbers


def test_a_line_that_is_not_utf8_is_rejected_by_number(catalogue, emma, peter):
    result = run_import(b"\xff\xfe\x00 broken\n", custody_line(EMMA, peter.national_id).encode() + b"\n")
    assert result.rejections[0][0] == 1
    assert result.added == 1


def test_a_malformed_line_for_a_known_relation_does_not_end_it(catalogue, emma, peter):
    run_import(custody_line(EMMA, peter.national_id))
    result = run_import(custody_line(EMMA, peter.national_id, start="14-06-2012"))
    assert (result.rejected, result.ended) == (1, 0)
    assert policy.can_act_for(peter, emma, catalogue["read_mail"])


def test_custody_ends_at_the_child_s_18th_birthday_whatever_the_extract_says(catalogue, emma, peter):
    run_import(custody_line(EMMA, peter.national_id, to="2040-01-01"))
    relation = Representation.objects.get()
    assert relation.valid_until == datetime.datetime(2030, 6, 14, tzinfo=COPENHAGEN)
    assert relation.valid_until.astimezone(datetime.UTC) == datetime.datetime(
        2030, 6, 13, 22, tzinfo=datetime.UTC
    )
    row = CitizenFileUserObjectPermission.all_rows.filter(representation=relation).first()
    assert row.valid_until == relation.valid_until


def test_custody_of_someone_already_18_is_rejected(catalogue, peter, karen):
    result = run_import(custody_line(karen.national_id, peter.national_id, start="2000-01-01"))
    assert result.rejected == 1 and not Representation.objects.exists()


def test_the_whole_file_is_one_transaction(catalogue, emma, peter, bent, lone, monkeypatch):
    run_import(custody_line(EMMA, peter.national_id))
    before = state()
    real = projection.project

    def fail_on_guardianship(relation):
        if relation.kind == Kind.GUARDIANSHIP:
            raise RuntimeError("disk full")
        return real(relation)

    monkeypatch.setattr(projection, "project", fail_on_guardianship)
    with pytest.raises(RuntimeError):
        run_import(guardianship_line(BENT, LONE))
    assert state() == before
    assert not RegisterImport.objects.filter(added=1, ended=1).exists()


def test_caseworker_registrations_are_not_ended_by_the_register(catalogue, bent, lone, family_court):
    from representation.models import Source

    Representation.objects.create(
        kind=Kind.GUARDIANSHIP,
        represented_national_id=BENT,
        representative_national_id=LONE,
        scope="both",
        decision_reference="FH-9",
        valid_from=timezone.now(),
        source=Source.CASEWORKER,
        registered_by=lone,
    )
    assert run_import().ended == 0
    assert Representation.objects.get().ended_at is None


def test_the_command_prints_the_counts_and_the_rejected_lines(tmp_path, catalogue, emma, peter):
    extract = tmp_path / "extract.jsonl"
    extract.write_text(custody_line(EMMA, peter.national_id) + "\n{broken\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_register", str(extract), stdout=out, stderr=err)
    assert "added 1, changed 0, ended 0, unchanged 0, rejected 1" in out.getvalue()
    assert "line 2:" in err.getvalue()
    out = io.StringIO()
    call_command("import_register", str(extract), stdout=out, stderr=io.StringIO())
    assert "added 0, changed 0, ended 0, unchanged 1, rejected 1" in out.getvalue()


def test_the_command_says_plainly_when_the_file_cannot_be_read(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_register", str(tmp_path / "missing.jsonl"))


def test_the_daily_task_imports_the_configured_extract(tmp_path, settings, catalogue, emma, peter):
    extract = tmp_path / "extract.jsonl"
    extract.write_text(custody_line(EMMA, peter.national_id) + "\n")
    settings.REPRESENTATION_REGISTER_EXTRACT = str(extract)
    assert tasks.import_register_extract.delay().get()["added"] == 1
    settings.REPRESENTATION_REGISTER_EXTRACT = str(tmp_path / "not-there-yet.jsonl")
    assert tasks.import_register_extract.delay().get() is None


def test_someone_who_verifies_later_gets_the_register_s_relation_at_once(catalogue, peter):
    from portal.identity import verify_identity_with_eid

    from ..factories import UserFactory

    run_import(custody_line(EMMA, peter.national_id))
    emma = UserFactory(national_id=EMMA, unverified=True)
    assert not policy.can_act_for(peter, emma, catalogue["read_mail"])
    emma = verify_identity_with_eid(acting_user=emma, national_id=EMMA, name="Emma Jensen")
    assert (
        policy.authorize(actor=peter, principal=emma, right=catalogue["read_mail"]).basis
        == "parental_custody"
    )


def test_the_audit_trail_names_no_cpr_number(catalogue, emma, peter):
    run_import(custody_line(EMMA, peter.national_id))
    event = AuditEvent.objects.get(action="representation.registered")
    assert event.principal == emma and event.details["representative"] == peter.pk
    assert EMMA not in str(event.details) and peter.national_id not in str(event.details)
