from django.dispatch import receiver

from portal.identity import identity_verified

from .projection import project_for_person


@receiver(identity_verified, dispatch_uid="representation.identity_verified")
def attach_representations(sender, user, **kwargs) -> None:
    """Someone who verifies their CPR number gets (or is covered by) the relations the register
    holds for it, at once."""
    project_for_person(user.national_id)
