"""The event catalogue: every action the audit trail records and every event authorities hear of.

One name per thing that happens, with a plain label (for lists, filters and the admin) and a
sentence in the past tense (for "done in my name" and histories: "Peter Jensen *read a letter*").
``record_event`` refuses an action that is not here, so nothing reaches a person as a raw code.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    # Powers of attorney
    POWER_OF_ATTORNEY_GRANTED = "power_of_attorney.granted", _("Power of attorney given")
    POWER_OF_ATTORNEY_ACCEPTED = "power_of_attorney.accepted", _("Power of attorney accepted")
    POWER_OF_ATTORNEY_DECLINED = "power_of_attorney.declined", _("Power of attorney declined")
    POWER_OF_ATTORNEY_REVOKED = "power_of_attorney.revoked", _("Power of attorney revoked")
    POWER_OF_ATTORNEY_RESIGNED = "power_of_attorney.resigned", _("Attorney resigned")
    POWER_OF_ATTORNEY_EXPIRED = "power_of_attorney.expired", _("Power of attorney expired")
    POWER_OF_ATTORNEY_RENEWED = "power_of_attorney.renewed", _("Power of attorney renewed")
    POWER_OF_ATTORNEY_REPLACED = "power_of_attorney.replaced", _("Replaced by a new power of attorney")
    POWER_OF_ATTORNEY_REGISTERED_ON_PAPER = (
        "power_of_attorney.registered_on_paper",
        _("Registered from a signed paper form"),
    )
    # What authorities hear: a power of attorney came into force, or was replaced by a changed one.
    POWER_OF_ATTORNEY_ACTIVATED = "power_of_attorney.activated", _("Power of attorney in force")
    POWER_OF_ATTORNEY_CHANGED = "power_of_attorney.changed", _("Power of attorney changed")
    # Legal representatives (parental custody, guardianship)
    REPRESENTATION_REGISTERED = "representation.registered", _("Legal representative registered")
    REPRESENTATION_CHANGED = "representation.changed", _("Legal representation changed")
    REPRESENTATION_ENDED = "representation.ended", _("Legal representation ended")
    REPRESENTATION_REGISTER_IMPORTED = "representation.register_imported", _("Register extract imported")
    # Organisations as attorneys: their members, and who of them may use which power of attorney
    ORGANISATION_REGISTERED = "organisation.registered", _("Organisation registered")
    ORGANISATION_MEMBER_INVITED = "organisation.member_invited", _("Invited to an organisation")
    ORGANISATION_MEMBER_JOINED = "organisation.member_joined", _("Joined an organisation")
    ORGANISATION_MEMBER_ROLE_CHANGED = (
        "organisation.member_role_changed",
        _("Role in an organisation changed"),
    )
    ORGANISATION_MEMBER_LEFT = "organisation.member_left", _("Left an organisation")
    ORGANISATION_ACCESS_GIVEN = "organisation.access_given", _("Access to a power of attorney given")
    ORGANISATION_ACCESS_REMOVED = "organisation.access_removed", _("Access to a power of attorney removed")
    # Requests from a relative
    ATTORNEY_REQUEST_CREATED = "attorney_request.created", _("Power of attorney asked for")
    ATTORNEY_REQUEST_APPROVED = "attorney_request.approved", _("Request for a power of attorney approved")
    ATTORNEY_REQUEST_REJECTED = "attorney_request.rejected", _("Request for a power of attorney refused")
    # Access codes
    ACCESS_CODE_CREATED = "access_code.created", _("Access code made")
    ACCESS_CODE_REVOKED = "access_code.revoked", _("Access code revoked")
    ACCESS_CODE_VIEWED = "access_code.viewed", _("Looked at with an access code")
    # Digital post
    LETTER_SENT = "letter.sent", _("Letter received")
    LETTER_READ = "letter.read", _("Letter read")
    LETTER_ATTACHMENT_DOWNLOADED = "letter.attachment_downloaded", _("Attachment of a letter downloaded")
    # Applications
    APPLICATION_SUBMITTED = "application.submitted", _("Application submitted")
    APPLICATION_IN_REVIEW = "application.in_review", _("Application taken into review")
    APPLICATION_APPROVED = "application.approved", _("Application approved")
    APPLICATION_REJECTED = "application.rejected", _("Application rejected")
    # Attorneys appointed jointly: one makes an application, another approves or stops it.
    APPLICATION_HELD = "application.held", _("Application made, waiting for the other attorney")
    APPLICATION_CO_APPROVED = "application.co_approved", _("Application approved by the other attorney")
    APPLICATION_STOPPED = "application.stopped", _("Application stopped by an attorney")
    # Consent for data use
    CONSENT_REQUESTED = "consent.requested", _("Consent asked for")
    CONSENT_GRANTED = "consent.granted", _("Consent given")
    CONSENT_REFUSED = "consent.refused", _("Consent refused")
    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    CONSENT_EXPIRED = "consent.expired", _("Consent expired")
    # Data use reported by authorities: each accepted use is logged; authorities hear of refusals.
    DATA_USE_REPORTED = "data_use.reported", _("Data used")
    DATA_USE_REFUSED = "data_use.refused", _("Report of data use refused")
    # Authorities' systems
    API_DECISION = "api.decision", _("Authority asked whether someone may act")
    API_DECISION_BATCH = "api.decision_batch", _("Authority asked several questions about acting")
    API_POWERS_OF_ATTORNEY_LISTED = "api.powers_of_attorney_listed", _("Authority listed powers of attorney")
    API_LETTER_DELIVERED = "api.letter_delivered", _("Authority delivered a letter")
    API_CONSENT_CHECK = "api.consent_check", _("Authority checked a consent")
    API_CLIENT_CREATED = "api_client.created", _("System access created")
    API_CLIENT_REVOKED = "api_client.revoked", _("System access revoked")
    API_CLIENT_WEBHOOK_REGISTERED = "api_client.webhook_registered", _("Webhook registered")
    API_CLIENT_WEBHOOK_REMOVED = "api_client.webhook_removed", _("Webhook removed")
    # Emergency powers of attorney, approved by two caseworkers
    EMERGENCY_REQUESTED = "emergency.requested", _("Emergency power of attorney asked for")
    EMERGENCY_FIRST_APPROVAL = "emergency.first_approval", _("Emergency power of attorney: first approval")
    EMERGENCY_APPROVED = "emergency.approved", _("Emergency power of attorney approved and in force")
    EMERGENCY_REFUSED = "emergency.refused", _("Emergency power of attorney refused")
    # Caseworkers and accounts
    CASEWORKER_APPOINTED = "caseworker.appointed", _("Caseworker appointed")
    EID_LOGIN = "eid.login", _("Logged in with MitID")
    EID_ACCOUNT_LINKED = "eid.account_linked", _("MitID linked to the account")
    EID_LOGIN_REFUSED = "eid.login_refused", _("MitID login refused")
    IDENTITY_VERIFIED = "identity.verified", _("Identity verified")
    IDENTITY_CLAIM_REMOVED = "identity.claim_removed", _("CPR number removed from the account")
    # The audit log itself: authorities receive its signed checkpoints.
    LOG_CHECKPOINT = "log.checkpoint", _("Audit log checkpoint signed")


#: What someone did, as a sentence after their name ("Peter Jensen read a letter").
SENTENCES = {
    Action.POWER_OF_ATTORNEY_GRANTED: _("gave a power of attorney"),
    Action.POWER_OF_ATTORNEY_ACCEPTED: _("accepted the power of attorney"),
    Action.POWER_OF_ATTORNEY_DECLINED: _("declined the power of attorney"),
    Action.POWER_OF_ATTORNEY_REVOKED: _("revoked the power of attorney"),
    Action.POWER_OF_ATTORNEY_RESIGNED: _("resigned from the power of attorney"),
    Action.POWER_OF_ATTORNEY_EXPIRED: _("the power of attorney expired"),
    Action.POWER_OF_ATTORNEY_RENEWED: _("renewed the power of attorney"),
    Action.POWER_OF_ATTORNEY_REPLACED: _("replaced the power of attorney with a new one"),
    Action.POWER_OF_ATTORNEY_REGISTERED_ON_PAPER: _(
        "registered a power of attorney from a signed paper form"
    ),
    Action.POWER_OF_ATTORNEY_ACTIVATED: _("the power of attorney came into force"),
    Action.POWER_OF_ATTORNEY_CHANGED: _("the power of attorney was changed"),
    Action.REPRESENTATION_REGISTERED: _("registered a legal representative"),
    Action.REPRESENTATION_CHANGED: _("changed a legal representation"),
    Action.REPRESENTATION_ENDED: _("ended a legal representation"),
    Action.REPRESENTATION_REGISTER_IMPORTED: _("imported the register's extract"),
    Action.ORGANISATION_REGISTERED: _("registered an organisation"),
    Action.ORGANISATION_MEMBER_INVITED: _("invited someone to the organisation"),
    Action.ORGANISATION_MEMBER_JOINED: _("joined the organisation"),
    Action.ORGANISATION_MEMBER_ROLE_CHANGED: _("changed a member's role in the organisation"),
    Action.ORGANISATION_MEMBER_LEFT: _("ended a membership of the organisation"),
    Action.ORGANISATION_ACCESS_GIVEN: _("gave a member access to the organisation's powers of attorney"),
    Action.ORGANISATION_ACCESS_REMOVED: _(
        "removed a member's access to the organisation's powers of attorney"
    ),
    Action.ATTORNEY_REQUEST_CREATED: _("asked for a power of attorney"),
    Action.ATTORNEY_REQUEST_APPROVED: _("approved a request for a power of attorney"),
    Action.ATTORNEY_REQUEST_REJECTED: _("refused a request for a power of attorney"),
    Action.ACCESS_CODE_CREATED: _("made an access code"),
    Action.ACCESS_CODE_REVOKED: _("revoked an access code"),
    Action.ACCESS_CODE_VIEWED: _("looked at the power of attorney with an access code"),
    Action.LETTER_SENT: _("sent a letter"),
    Action.LETTER_READ: _("read a letter"),
    Action.LETTER_ATTACHMENT_DOWNLOADED: _("downloaded the attachment of a letter"),
    Action.APPLICATION_SUBMITTED: _("submitted an application"),
    Action.APPLICATION_IN_REVIEW: _("took an application into review"),
    Action.APPLICATION_APPROVED: _("approved an application"),
    Action.APPLICATION_REJECTED: _("rejected an application"),
    Action.APPLICATION_HELD: _("made an application that waits for the other attorney's approval"),
    Action.APPLICATION_CO_APPROVED: _("approved an application made by the other attorney, and it was sent"),
    Action.APPLICATION_STOPPED: _("stopped an application before it was sent"),
    Action.CONSENT_REQUESTED: _("asked for consent"),
    Action.CONSENT_GRANTED: _("gave consent"),
    Action.CONSENT_REFUSED: _("refused consent"),
    Action.CONSENT_WITHDRAWN: _("withdrew consent"),
    Action.CONSENT_EXPIRED: _("the consent expired"),
    Action.DATA_USE_REPORTED: _("used personal data"),
    Action.DATA_USE_REFUSED: _("a report of data use was refused"),
    Action.API_DECISION: _("asked whether someone may act"),
    Action.API_DECISION_BATCH: _("asked several questions about acting"),
    Action.API_POWERS_OF_ATTORNEY_LISTED: _("listed powers of attorney"),
    Action.API_LETTER_DELIVERED: _("delivered a letter"),
    Action.API_CONSENT_CHECK: _("checked a consent"),
    Action.API_CLIENT_CREATED: _("created system access"),
    Action.API_CLIENT_REVOKED: _("revoked system access"),
    Action.API_CLIENT_WEBHOOK_REGISTERED: _("registered a webhook"),
    Action.API_CLIENT_WEBHOOK_REMOVED: _("removed a webhook"),
    Action.EMERGENCY_REQUESTED: _("asked for an emergency power of attorney"),
    Action.EMERGENCY_FIRST_APPROVAL: _("gave the first approval of an emergency power of attorney"),
    Action.EMERGENCY_APPROVED: _(
        "gave the second approval, and the emergency power of attorney came into force"
    ),
    Action.EMERGENCY_REFUSED: _("refused an emergency power of attorney"),
    Action.CASEWORKER_APPOINTED: _("appointed a caseworker"),
    Action.EID_LOGIN: _("logged in with MitID"),
    Action.EID_ACCOUNT_LINKED: _("linked MitID to the account"),
    Action.EID_LOGIN_REFUSED: _("a MitID login was refused"),
    Action.IDENTITY_VERIFIED: _("verified the identity"),
    Action.IDENTITY_CLAIM_REMOVED: _("the CPR number was removed from the account"),
    Action.LOG_CHECKPOINT: _("signed a checkpoint of the audit log"),
}


def label(action: str) -> str:
    """The plain label of an action; an unknown one says so rather than showing its code."""
    try:
        return str(Action(action).label)
    except ValueError:
        return str(_("Other event"))


def sentence(action: str) -> str:
    try:
        return str(SENTENCES[Action(action)])
    except (ValueError, KeyError):
        return str(_("did something"))
