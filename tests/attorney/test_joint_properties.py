"""Property-based test of the joint-attorney question in the policy.

Hypothesis gives Peter a few mandates from Karen – his own, or in an appointment with Anne made
severally or jointly – with random rights, some accepted, some revoked. For each right the policy
must say:

- ``can_act_for``: yes exactly when a mandate in force gives him the right (joint or not);
- ``joint_appointment_for``: an appointment exactly when he holds the right and *every* mandate in
  force that gives it is in a jointly appointment;
- ``acts_in_appointment``: for each appointment, yes exactly when his own mandate in it is in force
  with the right; never for Karen herself.
"""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from attorney import policy, services
from attorney.models import JointMode

from ..factories import AuthorityFactory, RightFactory, ServiceFactory, UserFactory


@dataclasses.dataclass(frozen=True)
class Spec:
    kind: str  # "own", "severally" or "jointly"
    rights: tuple[int, ...]
    accepted: bool
    revoked: bool


specs = st.builds(
    Spec,
    st.sampled_from(["jointly", "severally", "own"]),
    st.sampled_from([(0,), (0, 1), (1,)]),
    st.sampled_from([True, True, False]),
    st.sampled_from([False, False, True]),
)


class JointPolicyProperties(TestCase):
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(mandates=st.lists(specs, min_size=1, max_size=3))
    def test_acting_together_is_decided_by_the_mandates_in_force(self, mandates):
        karen, peter, anne = UserFactory(), UserFactory(), UserFactory()
        authority = AuthorityFactory()
        rights = [RightFactory(service=ServiceFactory(authority=authority)) for _ in range(2)]
        now = timezone.now()
        period = {"valid_from": now, "valid_until": now + datetime.timedelta(days=30)}
        in_force = []  # (kind, rights, appointment) of Peter's mandates in force
        appointments = []
        for spec in mandates:
            chosen = [rights[i] for i in spec.rights]
            try:
                if spec.kind == "own":
                    mandate = services.grant_power_of_attorney(
                        acting_user=karen,
                        attorney_national_id=peter.national_id,
                        attorney_name=peter.name,
                        rights=chosen,
                        **period,
                    )
                    appointment = None
                else:
                    appointment = services.grant_joint_power_of_attorney(
                        acting_user=karen,
                        attorneys=[(peter.national_id, peter.name), (anne.national_id, anne.name)],
                        mode=spec.kind,
                        rights=chosen,
                        **period,
                    )
                    mandate = appointment.mandates.get(attorney=peter)
                    appointments.append(appointment)
            except ValidationError:
                continue  # an identical open mandate to the same person: refused, nothing made
            if spec.accepted:
                mandate = services.accept(power_of_attorney=mandate, acting_user=peter)
            if spec.revoked:
                services.revoke(power_of_attorney=mandate, acting_user=karen)
            elif spec.accepted:
                in_force.append((spec.kind, set(spec.rights), appointment))

        for i, right in enumerate(rights):
            giving = [(kind, appointment) for kind, held, appointment in in_force if i in held]
            self.assertEqual(policy.can_act_for(peter, karen, right), bool(giving))
            joint = policy.joint_appointment_for(actor=peter, principal=karen, right=right)
            if giving and all(kind == JointMode.JOINTLY for kind, _ in giving):
                self.assertIn(joint, [appointment for _, appointment in giving])
            else:
                self.assertIsNone(joint)
            for appointment in appointments:
                expected = any(a == appointment for _, a in giving)
                self.assertEqual(
                    policy.acts_in_appointment(actor=peter, appointment=appointment, right=right), expected
                )
                self.assertFalse(
                    policy.acts_in_appointment(actor=karen, appointment=appointment, right=right)
                )
