"""Reads for study groups: typed rows shaped for each page, free of N+1 queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from groups import permissions
from groups.models import Meeting, Membership, StudyGroup
from reading.models import Text
from reading.selectors import Progress


def membership_of(user, group_id: int) -> Membership | None:
    """The user's membership of a group, with its group, or None (outsiders, anonymous)."""
    if user is None or not user.is_authenticated:
        return None
    return membership_of_user_id(user.pk, group_id)


def membership_of_user_id(user_id: int | None, group_id: int) -> Membership | None:
    if user_id is None:
        return None
    return (
        Membership.objects.select_related("group", "user")
        .filter(group_id=group_id, user_id=user_id)
        .first()
    )


def upcoming_meetings_prefetch(now=None) -> Prefetch:
    now = now or timezone.now()
    return Prefetch("meetings", queryset=Meeting.objects.upcoming(now), to_attr="upcoming_meetings")


@dataclass(frozen=True)
class GroupRow:
    """One of the reader's groups, as the home and contents pages list it."""

    group: StudyGroup
    my_role: str
    member_count: int
    next_meeting: Meeting | None


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
    return [
        GroupRow(
            group=group,
            my_role=group.my_role,
            member_count=group.member_count,
            next_meeting=group.upcoming_meetings[0] if group.upcoming_meetings else None,
        )
        for group in groups
    ]


def group_members_with_progress(*, group: StudyGroup, meeting: Meeting | None = None):
    """Members with their read count for the group's text and, given a meeting,
    for the passages to read by then; one query however many members."""
    read_here = Q(
        user__reading_progress__passage__text_id=group.text_id,
        user__reading_progress__passage__position__isnull=False,
    )
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


@dataclass(frozen=True)
class MemberRow:
    """A member and their reading of the group's text. (How ready each is for the next
    meeting takes their answers too: pages.selectors.meeting_readiness.)"""

    membership_pk: int
    user_id: int
    username: str
    role_label: str
    is_facilitator: bool
    is_you: bool
    progress: Progress


@dataclass(frozen=True)
class GroupPage:
    group: StudyGroup
    membership: Membership
    members: list[MemberRow]
    meetings: list[Meeting]  # from 12 hours ago on, cancelled ones included
    next_meeting: Meeting | None
    invitation_valid: bool
    may_manage: bool
    may_leave: bool
    may_see_progress: bool  # who has answered what
    sole_facilitator: bool  # the group has just one facilitator

    @property
    def facilitator_count(self) -> int:
        return sum(1 for row in self.members if row.is_facilitator)


def invitation_is_valid(group: StudyGroup, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return not group.is_notebook and (
        group.invite_expires_at is None or group.invite_expires_at > now
    )


def group_page(*, membership: Membership, now: datetime | None = None) -> GroupPage:
    """The group page: meetings, members with their progress."""
    now = now or timezone.now()
    group = membership.group
    meetings = list(
        group.meetings.filter(starts_at__gte=now - timedelta(hours=12)).order_by("starts_at")
    )
    next_meeting = next(
        (m for m in meetings if m.cancelled_at is None and m.starts_at >= now), None
    )
    passage_count = group.text.passages.count()
    rows = [
        MemberRow(
            membership_pk=member.pk,
            user_id=member.user_id,
            username=member.user.username,
            role_label=member.get_role_display(),
            is_facilitator=permissions.is_facilitator(member),
            is_you=member.user_id == membership.user_id,
            progress=Progress(read=member.read_count, total=passage_count),
        )
        for member in group_members_with_progress(group=group)
    ]
    return GroupPage(
        group=group,
        membership=membership,
        members=rows,
        meetings=meetings,
        next_meeting=next_meeting,
        invitation_valid=invitation_is_valid(group, now),
        may_manage=permissions.may_manage_group(membership),
        may_leave=permissions.may_leave_group(membership),
        may_see_progress=permissions.may_see_progress_of_members(membership),
        sole_facilitator=sum(1 for row in rows if row.is_facilitator) < 2,
    )


def calendar_meetings(*, user, since: datetime) -> list[Meeting]:
    """The meetings of the user's shared groups from `since` on, cancelled ones included
    (a calendar feed marks them cancelled)."""
    return list(
        Meeting.objects.filter(
            group__memberships__user=user,
            group__notebook_owner__isnull=True,
            starts_at__gte=since,
        )
        .select_related("group__text")
        .order_by("starts_at", "pk")
    )


def next_meetings_for_user(*, user, now: datetime | None = None, limit: int = 5) -> list[Meeting]:
    """The next scheduled meetings of the user's shared groups, soonest first."""
    now = now or timezone.now()
    return list(
        Meeting.objects.upcoming(now)
        .filter(group__memberships__user=user, group__notebook_owner__isnull=True)
        .select_related("group__text")
        .order_by("starts_at", "pk")[:limit]
    )


def member_user_ids(group: StudyGroup):
    """A subquery of the ids of the group's members (for aggregate queries)."""
    return Membership.objects.filter(group=group).values("user_id")
