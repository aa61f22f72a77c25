"""Four indexes fewer on the audit events, which every decision of the authority API writes.

The single-column indexes of ``actor`` and ``principal`` repeat the first column of the (person,
time) indexes, and the LIKE-pattern copies of ``action`` and ``hash`` serve no query. On PostgreSQL
only indexes are dropped, one created and the unique constraint renamed: the table is not rewritten
and its foreign keys are not checked again, so on a large audit table this takes moments instead of
holding a lock for the length of a scan, as Django's own operations would (they drop and re-add both
foreign keys to drop an index).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STATE_OPERATIONS = [
    migrations.AlterField(
        model_name="auditevent",
        name="action",
        field=models.CharField(
            choices=[
                ("power_of_attorney.granted", "Power of attorney given"),
                ("power_of_attorney.accepted", "Power of attorney accepted"),
                ("power_of_attorney.declined", "Power of attorney declined"),
                ("power_of_attorney.revoked", "Power of attorney revoked"),
                ("power_of_attorney.resigned", "Attorney resigned"),
                ("power_of_attorney.expired", "Power of attorney expired"),
                ("power_of_attorney.renewed", "Power of attorney renewed"),
                ("power_of_attorney.replaced", "Replaced by a new power of attorney"),
                ("power_of_attorney.registered_on_paper", "Registered from a signed paper form"),
                ("power_of_attorney.activated", "Power of attorney in force"),
                ("power_of_attorney.changed", "Power of attorney changed"),
                ("representation.registered", "Legal representative registered"),
                ("representation.changed", "Legal representation changed"),
                ("representation.ended", "Legal representation ended"),
                ("representation.register_imported", "Register extract imported"),
                ("organisation.registered", "Organisation registered"),
                ("organisation.member_invited", "Invited to an organisation"),
                ("organisation.member_joined", "Joined an organisation"),
                ("organisation.member_role_changed", "Role in an organisation changed"),
                ("organisation.member_left", "Left an organisation"),
                ("organisation.access_given", "Access to a power of attorney given"),
                ("organisation.access_removed", "Access to a power of attorney removed"),
                ("attorney_request.created", "Power of attorney asked for"),
                ("attorney_request.approved", "Request for a power of attorney approved"),
                ("attorney_request.rejected", "Request for a power of attorney refused"),
                ("access_code.created", "Access code made"),
                ("access_code.revoked", "Access code revoked"),
                ("access_code.viewed", "Looked at with an access code"),
                ("letter.sent", "Letter received"),
                ("letter.read", "Letter read"),
                ("letter.attachment_downloaded", "Attachment of a letter downloaded"),
                ("application.submitted", "Application submitted"),
                ("application.in_review", "Application taken into review"),
                ("application.approved", "Application approved"),
                ("application.rejected", "Application rejected"),
                ("application.held", "Application made, waiting for the other attorney"),
                ("application.co_approved", "Application approved by the other attorney"),
                ("application.stopped", "Application stopped by an attorney"),
                ("consent.requested", "Consent asked for"),
                ("consent.granted", "Consent given"),
                ("consent.refused", "Consent refused"),
                ("consent.withdrawn", "Consent withdrawn"),
                ("consent.expired", "Consent expired"),
                ("data_use.reported", "Data used"),
                ("data_use.refused", "Report of data use refused"),
                ("api.decision", "Authority asked whether someone may act"),
                ("api.decision_batch", "Authority asked several questions about acting"),
                ("api.powers_of_attorney_listed", "Authority listed powers of attorney"),
                ("api.letter_delivered", "Authority delivered a letter"),
                ("api.consent_check", "Authority checked a consent"),
                ("api_client.created", "System access created"),
                ("api_client.revoked", "System access revoked"),
                ("api_client.webhook_registered", "Webhook registered"),
                ("api_client.webhook_removed", "Webhook removed"),
                ("emergency.requested", "Emergency power of attorney asked for"),
                ("emergency.first_approval", "Emergency power of attorney: first approval"),
                ("emergency.approved", "Emergency power of attorney approved and in force"),
                ("emergency.refused", "Emergency power of attorney refused"),
                ("caseworker.appointed", "Caseworker appointed"),
                ("eid.login", "Logged in with MitID"),
                ("eid.account_linked", "MitID linked to the account"),
                ("eid.login_refused", "MitID login refused"),
                ("identity.verified", "Identity verified"),
                ("identity.claim_removed", "CPR number removed from the account"),
                ("log.checkpoint", "Audit log checkpoint signed"),
            ],
            max_length=64,
            verbose_name="action",
        ),
    ),
    migrations.AlterField(
        model_name="auditevent",
        name="actor",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
            verbose_name="actor",
        ),
    ),
    migrations.AlterField(
        model_name="auditevent",
        name="hash",
        field=models.CharField(max_length=64),
    ),
    migrations.AlterField(
        model_name="auditevent",
        name="principal",
        field=models.ForeignKey(
            blank=True,
            db_index=False,
            null=True,
            on_delete=django.db.models.deletion.PROTECT,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
            verbose_name="on behalf of",
        ),
    ),
    migrations.AddIndex(
        model_name="auditevent",
        index=models.Index(fields=["action"], name="audit_action"),
    ),
    migrations.AddConstraint(
        model_name="auditevent",
        constraint=models.UniqueConstraint(fields=("hash",), name="audit_unique_leaf_hash"),
    ),
]

POSTGRESQL_FORWARD = [
    'DROP INDEX IF EXISTS "portal_auditevent_actor_id_c61bf5c0"',
    'DROP INDEX IF EXISTS "portal_auditevent_principal_id_5742ffc9"',
    'DROP INDEX IF EXISTS "portal_auditevent_action_c0d3e523"',
    'DROP INDEX IF EXISTS "portal_auditevent_action_c0d3e523_like"',
    'DROP INDEX IF EXISTS "portal_auditevent_hash_427742ce_like"',
    'CREATE INDEX "audit_action" ON "portal_auditevent" ("action")',
    'ALTER TABLE "portal_auditevent" RENAME CONSTRAINT "portal_auditevent_hash_key" TO "audit_unique_leaf_hash"',
]
POSTGRESQL_BACKWARD = [
    'ALTER TABLE "portal_auditevent" RENAME CONSTRAINT "audit_unique_leaf_hash" TO "portal_auditevent_hash_key"',
    'CREATE INDEX "portal_auditevent_hash_427742ce_like" ON "portal_auditevent" ("hash" varchar_pattern_ops)',
    'DROP INDEX "audit_action"',
    'CREATE INDEX "portal_auditevent_action_c0d3e523" ON "portal_auditevent" ("action")',
    'CREATE INDEX "portal_auditevent_action_c0d3e523_like" ON "portal_auditevent" ("action" varchar_pattern_ops)',
    'CREATE INDEX "portal_auditevent_principal_id_5742ffc9" ON "portal_auditevent" ("principal_id")',
    'CREATE INDEX "portal_auditevent_actor_id_c61bf5c0" ON "portal_auditevent" ("actor_id")',
]


class OnPostgreSQL(migrations.operations.base.Operation):
    """The given statements on PostgreSQL; elsewhere the state operations' own database work (the
    embedded SQLite database is small, and there Django rebuilds the table as it always does)."""

    reversible = True

    def __init__(self, forward, backward, elsewhere):
        self.forward, self.backward, self.elsewhere = forward, backward, elsewhere

    def state_forwards(self, app_label, state):
        pass  # the state operations beside it change the state

    # Changing no state itself, this operation is given the state before the migration as from_state
    # going forwards and as to_state going backwards.
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.forward:
                schema_editor.execute(statement)
            return
        for operation, before, after in self._steps(app_label, from_state):
            operation.database_forwards(app_label, schema_editor, before, after)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.backward:
                schema_editor.execute(statement)
            return
        for operation, before, after in reversed(self._steps(app_label, to_state)):
            operation.database_backwards(app_label, schema_editor, after, before)

    def _steps(self, app_label, state):
        steps = []
        for operation in self.elsewhere:
            after = state.clone()
            operation.state_forwards(app_label, after)
            steps.append((operation, state, after))
            state = after
        return steps

    def describe(self):
        return "Drop the audit events' redundant indexes"


class Migration(migrations.Migration):
    dependencies = [
        ("authorities", "0011_permission_rows_per_member"),
        ("portal", "0017_organisation_events"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=STATE_OPERATIONS,
            database_operations=[OnPostgreSQL(POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD, STATE_OPERATIONS)],
        ),
    ]
