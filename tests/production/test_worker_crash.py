"""Drill: the worker is killed (SIGKILL) in the middle of a batch of emails and webhooks.

Nothing is lost and nothing is sent twice: after a restart, and the resend jobs beat runs every ten
minutes (run here at once, as beat would), every email reaches the SMTP server once and every event
reaches the webhook receiver once. Counted at the SMTP server and the receiver themselves.

The tasks a killed worker had taken stay unacknowledged in Redis (``acks_late``) until the broker's
visibility timeout, an hour; the resend jobs, not the broker, bring them back, and the row lock in
each task keeps a message that is both redelivered and resent to one.
"""

import collections
import signal
import textwrap
import time

import redis

from .support import SmtpSink, WebhookReceiver, wait_for

BATCH = 20

ENQUEUE = """
from django.db import transaction
from authorities import services
from authorities.models import Authority
from portal.models import OutboundEmail
from portal.tasks import send_outbound_email

authority = Authority.objects.create(slug="drill", name_da="Øvelse", name_en="Drill")
client, _token = services.create_api_client(authority=authority, name="drill")
services.register_webhook(client=client, url="{hook}")
for n in range({batch}):
    email = OutboundEmail.objects.create(
        idempotency_key=f"drill:{{n}}", recipient=f"person{{n}}@example.dk", subject=f"Drill {{n}}", body="Hej."
    )
    send_outbound_email.delay(email.pk)
    with transaction.atomic():
        services._authority_event(authority_id=authority.pk, type="drill.event", payload={{"n": n}})
"""

RESEND = """
from authorities.services import resend_pending_webhooks
from portal.tasks import resend_unsent_emails
print(resend_unsent_emails(), resend_pending_webhooks())
"""

COUNT_UNSENT = """
from authorities.models import DeliveryStatus, WebhookDelivery
from portal.models import OutboundEmail
print(OutboundEmail.objects.filter(sent_at__isnull=True).count(),
      WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count())
"""


def shell(portal, code: str, **env: str) -> str:
    # Django's shell first reports what it imported; the answer is the last line.
    return portal.manage("shell", "-c", textwrap.dedent(code), **env).stdout.strip().splitlines()[-1]


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(drill_portal):
    portal = drill_portal
    smtp = SmtpSink(delay=0.3).start()
    hook = WebhookReceiver(delay=0.3).start()
    try:
        shell(portal, ENQUEUE.format(hook=hook.url, batch=BATCH))
        portal.env["EMAIL_URL"] = smtp.url
        portal.start("worker")
        wait_for(lambda: len(smtp.all()) + len(hook.all()) >= 4, 60, "the worker to get going")

        assert portal.kill("worker", signal.SIGKILL) == -signal.SIGKILL
        delivered_before = len(smtp.all()) + len(hook.all())
        assert delivered_before < 2 * BATCH, "the batch was over before the kill"

        portal.start("worker", name="worker-restarted")
        broker = redis.Redis.from_url(portal.env["REDIS_URL"])

        def settled():
            # The queue is empty, and what is unsent is exactly what the killed worker had taken:
            # kombu keeps a worker's unacknowledged messages in the "unacked" hash.
            emails, events = map(int, shell(portal, COUNT_UNSENT).split())
            return (
                broker.llen("celery") == 0 and broker.hlen("unacked") == emails + events and (emails, events)
            )

        lost = wait_for(settled, 60, "the restarted worker to finish the queue")
        assert sum(lost) >= 1, "the kill caught nothing in flight"
        # What beat's resend jobs do every ten minutes, now: queue whatever is still unsent.
        assert shell(portal, RESEND, OUTBOX_RESEND_AFTER_SECONDS="0") == f"{lost[0]} {lost[1]}"
        try:
            wait_for(lambda: shell(portal, COUNT_UNSENT) == "0 0", 60, "every email and event to be sent")
        except AssertionError as error:
            raise AssertionError(
                f"{error}; unsent emails and events: {shell(portal, COUNT_UNSENT)}\n"
                f"{portal.log('worker-restarted')[-4000:]}"
            ) from None
        time.sleep(2)  # anything sent twice would arrive now

        per_recipient = collections.Counter(r for mail in smtp.all() for r in mail.recipients)
        assert per_recipient == {f"person{n}@example.dk": 1 for n in range(BATCH)}
        per_event = collections.Counter(headers["webhook-id"] for headers, _body in hook.all())
        assert len(per_event) == BATCH and set(per_event.values()) == {1}, per_event
    finally:
        smtp.stop()
        hook.stop()
