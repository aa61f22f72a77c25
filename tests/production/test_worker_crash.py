"""Drill: the worker is killed (SIGKILL) in the middle of a batch of emails and webhooks.

Nothing is lost and nothing is sent twice: after a restart, and the resend jobs beat runs every ten
minutes (run here at once, as beat would), every email reaches the SMTP server once and every event
reaches the webhook receiver once. Counted at the SMTP server and the receiver themselves.

The kill comes while both of the worker's processes wait on a server (the SMTP server before it
takes the message, the receiver before it answers). A kill in the few milliseconds between a
server's acceptance and the worker's commit would send that one message again: the same email, and
the same ``webhook-id``, by which receivers drop duplicates.

The tasks a killed worker had taken stay unacknowledged in Redis (``acks_late``) until the broker's
visibility timeout, an hour; the resend jobs, not the broker, bring them back, and the row lock in
each task keeps a message that is both redelivered and resent to one.
"""

import ast
import collections
import json
import signal
import textwrap
import time

import redis

from .support import SmtpSink, WebhookReceiver, wait_for

BATCH = 20
DELAY = 0.6  # seconds the SMTP server and the receiver take to answer

ENQUEUE = """
from django.db import transaction
from authorities.catalogue.models import Authority
from authorities.clients import services as clients
from authorities.events import services as events
from portal.models import OutboundEmail
from portal.tasks import send_outbound_email

authority = Authority.objects.create(slug="drill", name_da="Øvelse", name_en="Drill")
client, _token = clients.create_api_client(authority=authority, name="drill")
events.register_webhook(client=client, url="{hook}")
for n in range({batch}):
    email = OutboundEmail.objects.create(
        idempotency_key=f"drill:{{n}}", recipient=f"person{{n}}@example.dk", subject=f"Drill {{n}}", body="Hej."
    )
    send_outbound_email.delay(email.pk)
    with transaction.atomic():
        events.record_authority_event(authority_id=authority.pk, type="power_of_attorney.revoked", payload={{"n": n}})
"""

RESEND = """
from authorities.events.services import resend_pending_webhooks
from portal.tasks import resend_unsent_emails
print(resend_unsent_emails(), resend_pending_webhooks())
"""

UNSENT = """
import json
from authorities.models import DeliveryStatus, WebhookDelivery
from portal.models import OutboundEmail
print(json.dumps({
    "emails": list(OutboundEmail.objects.filter(sent_at__isnull=True).values_list("pk", flat=True)),
    "deliveries": list(WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).values_list("pk", flat=True)),
}))
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
    smtp = SmtpSink(delay=DELAY).start()
    hook = WebhookReceiver(delay=DELAY).start()
    try:
        shell(portal, ENQUEUE.format(hook=hook.url, batch=BATCH))
        portal.env["EMAIL_URL"] = smtp.url
        portal.start("worker")

        def mid_batch() -> bool:
            # Some are sent, and both pool processes have just begun waiting on a server: neither
            # is between a server's acceptance and its own commit.
            started = smtp.waiting_since_at_most(DELAY / 2) + hook.waiting_since_at_most(DELAY / 2)
            return len(smtp.all()) + len(hook.all()) >= 4 and started == 2

        wait_for(mid_batch, 60, "the worker to be in the middle of the batch")

        assert portal.kill("worker", signal.SIGKILL) == -signal.SIGKILL
        delivered_before = len(smtp.all()) + len(hook.all())
        assert delivered_before < 2 * BATCH, "the batch was over before the kill"

        portal.start("worker", name="worker-restarted")
        broker = redis.Redis.from_url(portal.env["REDIS_URL"])

        def taken() -> dict[str, set[int]]:
            # Messages a worker took but never acknowledged: kombu keeps them in the "unacked" hash
            # until the visibility timeout.
            ids = collections.defaultdict(set)
            for entry in broker.hvals("unacked"):
                headers = json.loads(entry)[0]["headers"]
                ids[headers["task"]].add(ast.literal_eval(headers["argsrepr"])[0])
            return ids

        def settled() -> bool:
            # The queue is empty, and whatever is still unsent was taken by the killed worker.
            unsent, held = json.loads(shell(portal, UNSENT)), taken()
            return (
                broker.llen("celery") == 0
                and set(unsent["emails"]) <= held["portal.tasks.send_outbound_email"]
                and set(unsent["deliveries"]) <= held["authorities.tasks.deliver_webhook"]
            )

        wait_for(settled, 60, "the restarted worker to finish the queue")
        assert broker.hlen("unacked") >= 1, "the kill caught nothing in flight"
        # What beat's resend jobs do every ten minutes, now: queue whatever is still unsent.
        shell(portal, RESEND, OUTBOX_RESEND_AFTER_SECONDS="0")
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
