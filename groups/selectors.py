"""Reads for study groups: querysets shaped for each page, free of N+1 queries."""

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from groups.models import Meeting, Membership, StudyGroup
from reading.models import Text


def upcoming_meetings_prefetch(now=None) -> Prefetch:
    now = now or timezone.now()
    return Prefetch("meetings", queryset=Meeting.objects.upcoming(now), to_attr="upcoming_meetings")


def groups_for_user(*, user, text: Text | None = None):
    """The user's shared groups (not notebooks), each with its next meeting and role."""
    if not user.is_authenticated:
        return []
    role = Membership.objects.filter(group=OuterRef("pk"), user=user).values("role")[:1]
    # A subquery, not Count("memberships"): after for_member()'s filter on the same
    # relation, Count would reuse that join and count only the user's own membership.
    member_count = (
        Membership.objects.filter(group=OuterRef("pk"))
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    groups = (
        StudyGroup.objects.for_member(user)
        .shared()
        .select_related("text")
        .annotate(my_role=Subquery(role), member_count=Subquery(member_count))
        .prefetch_related(upcoming_meetings_prefetch())
        .order_by("name")
    )
    if text is not None:
        groups = groups.filter(text=text)
    groups = list(groups)
    for group in groups:
        group.next_meeting = group.upcoming_meetings[0] if group.upcoming_meetings else None
    return groups


def group_members_with_progress(*, group: StudyGroup, meeting: Meeting | None = None):
    """Members with their read count for the group's text and, given a meeting,
    for the passages to read by then; one query however many members."""
    read_here = Q(user__reading_progress__passage__text_id=group.text_id)
    annotations = {"read_count": Count("user__reading_progress", filter=read_here, distinct=True)}
    if meeting is not None:
        annotations["meeting_read_count"] = Count(
            "user__reading_progress",
            filter=read_here
            & Q(user__reading_progress__passage__position__gte=meeting.first_position)
            & Q(user__reading_progress__passage__position__lte=meeting.last_position),
            distinct=True,
        )
    return (
        Membership.objects.filter(group=group)
        .select_related("user")
        .annotate(**annotations)
        .order_by("role", "user__username")
    )
