"""Drill: beat runs twice by mistake (say on two machines). Expiry and reminders still happen once.

Two beat processes, each with its own schedule file, send the expiry job every minute; the
hourly reminder job is sent twice at the same moment, as two beats would. Each power of attorney
expires once and each party gets one email about it, counted at a real SMTP server.
"""

import collections
import json
import subprocess
import time

from .support import ROOT, SmtpSink, wait_for
from .test_worker_crash import shell

SETUP = """
import datetime
from django.utils import timezone
from attorney import services
from attorney.models import PowerOfAttorney
from authorities.models import Right
from portal.demo import seed_demo
from portal.models import User

seed_demo()
karen, ole = User.objects.get(email="karen@example.dk"), User.objects.get(email="ole@example.dk")
now = timezone.now()
made = []
for code in ("skat.read_mail", "skat.view_tax_assessment"):  # the same rights twice are refused
    mandate = services.grant_power_of_attorney(
        acting_user=karen, attorney_national_id=ole.national_id, attorney_name=ole.name,
        rights=[Right.objects.get(code=code)],
        valid_from=now, valid_until=now + datetime.timedelta(days=300),
    )
    made.append(services.accept(power_of_attorney=mandate, acting_user=ole))
ending, reminded = made
# One is over a minute ago, the other ends in three days.
PowerOfAttorney.objects.filter(pk=ending.pk).update(
    valid_from=now - datetime.timedelta(days=2), valid_until=now - datetime.timedelta(minutes=1)
)
PowerOfAttorney.objects.filter(pk=reminded.pk).update(valid_until=now + datetime.timedelta(days=3))
print(ending.pk, reminded.pk)
"""

EXPECTED = """
import json
from portal.models import OutboundEmail
rows = OutboundEmail.objects.filter(idempotency_key__regex=r"^poa:({ending}:expired|{reminded}:reminder):")
print(json.dumps(sorted([row.recipient, row.subject] for row in rows)))
"""

STATE = """
from attorney.models import PowerOfAttorney
print(PowerOfAttorney.objects.get(pk="{ending}").status, PowerOfAttorney.objects.get(pk="{reminded}").reminder_sent_at is not None)
"""

SENT_DUE_TASK = "Sending due task expire-due-powers-of-attorney"


def test_two_beats_expire_and_remind_once(drill_portal):
    portal = drill_portal
    smtp = SmtpSink().start()
    try:
        portal.env["EMAIL_URL"] = smtp.url
        ending, reminded = shell(portal, SETUP).split()
        portal.start("worker")
        for n in (1, 2):
            beat = f"celery -A portal beat --loglevel info --schedule {portal.log_dir / f'beat-{n}.schedule'}"
            portal.start("beat", name=f"beat-{n}", command=beat)
        # The hourly reminder job, sent by both beats at once.
        call = [
            str(portal.venv / "bin" / "celery"),
            "-A",
            "portal",
            "call",
            "attorney.tasks.send_expiry_reminders",
        ]
        calls = [
            subprocess.Popen(call, cwd=ROOT, env=portal.child_env(), stdout=subprocess.DEVNULL)
            for _ in range(2)
        ]
        assert [c.wait(timeout=60) for c in calls] == [0, 0]

        # Beat sends its first every-minute job a minute after it starts.
        wait_for(lambda: all(SENT_DUE_TASK in portal.log(f"beat-{n}") for n in (1, 2)), 120, "both beats")
        state = STATE.format(ending=ending, reminded=reminded)
        wait_for(lambda: shell(portal, state) == "expired True", 60, "the expiry and the reminder")
        expected = [
            tuple(pair)
            for pair in json.loads(shell(portal, EXPECTED.format(ending=ending, reminded=reminded)))
        ]
        assert len(expected) == 4  # Karen and Ole, about each of the two

        def received():
            return collections.Counter((mail.recipients[0], mail.subject) for mail in smtp.all())

        try:
            wait_for(lambda: all(received()[pair] for pair in expected), 60, "the expiry and reminder emails")
        except AssertionError as error:
            raise AssertionError(f"{error}: expected {expected}, received {received()}") from None
        time.sleep(3)  # a second expiry or reminder email would arrive now
        assert {pair: received()[pair] for pair in expected} == dict.fromkeys(expected, 1)
    finally:
        smtp.stop()
