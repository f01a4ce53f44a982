"""Demo data for `make run`: the essay, readers at different points, a study group.

Idempotent: running it again changes nothing.
"""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from groups.models import Meeting, Membership, StudyGroup
from reading.models import ReadingProgress
from reading.services import shipped_essay_import

DEMO_PASSWORD = "read-together"
DEMO_GROUP_SLUG = "thursday-reading-circle"

# username, role in the demo group (None: reads alone), passages read
DEMO_READERS = [
    ("ada", Membership.Role.FACILITATOR, 6),
    ("ben", Membership.Role.MEMBER, 5),
    ("chloe", Membership.Role.MEMBER, 2),
    ("dev", Membership.Role.MEMBER, 0),
    ("eli", None, 3),
]


def next_thursday_evening(now):
    local_now = timezone.localtime(now)
    days_ahead = (3 - local_now.weekday()) % 7 or 7
    day = (local_now + timedelta(days=days_ahead)).date()
    return timezone.make_aware(datetime.combine(day, time(19, 0)))


@transaction.atomic
def load_demo() -> list[tuple[str, str]]:
    text = shipped_essay_import().text
    passages = list(text.passages.order_by("position"))
    User = get_user_model()
    group, _ = StudyGroup.objects.get_or_create(
        slug=DEMO_GROUP_SLUG,
        defaults={
            "text": text,
            "name": "Thursday reading circle",
            "description": "We read a few passages a week and meet on Thursday evenings.",
        },
    )
    logins = []
    for username, role, read in DEMO_READERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if role:
            Membership.objects.get_or_create(group=group, user=user, defaults={"role": role})
        ReadingProgress.objects.bulk_create(
            [ReadingProgress(reader=user, passage=p) for p in passages[:read]],
            ignore_conflicts=True,
        )
        logins.append((username, role.label.lower() if role else "reads alone"))
    if not group.meetings.exists():
        Meeting.objects.create(
            group=group,
            starts_at=next_thursday_evening(timezone.now()),
            first_position=3,
            last_position=5,
            agenda="Why does the sect measure itself by its Full Program? Bring one example.",
        )
    return logins
