from django.dispatch import Signal

#: Sent inside the transaction that ends a membership (arguments: ``membership``, ``acting_user``):
#: the powers of attorney floor takes the member's access away in the same transaction.
membership_ended = Signal()
