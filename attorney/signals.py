from django.dispatch import Signal

#: Sent inside the transaction that changes a power of attorney, with ``mandate`` and ``type``
#: (the event catalogue's word after "power_of_attorney.": activated, changed, revoked, resigned,
#: expired). The authorities' outbox listens (``authorities.events.receivers``); the attorney floor
#: does not know who hears it.
power_of_attorney_changed = Signal()

#: The same for many powers of attorney changed together, with ``mandates`` and ``type``: sent once
#: per batch by the expiry job, so a listener can write its rows for the whole batch at once.
powers_of_attorney_changed = Signal()
