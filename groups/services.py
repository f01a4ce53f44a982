"""Writes for study groups: groups, notebooks, invitations, memberships, meetings.

Each service is a plain function with keyword-only arguments and runs in one
transaction. Races are settled by database constraints and row locks, not by
checking first.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from groups import permissions
from groups.models import (
    CalendarFeed,
    Meeting,
    Membership,
    ReaderSettings,
    Removal,
    StudyGroup,
    new_invite_token,
)
from groups.selectors import invitation_is_valid, membership_of
from groups.timezones import is_zone
from reading.models import Text
from sectstudy import submissions


def _unique_group_slug(name: str) -> str:
    base = slugify(name)[:60] or "group"
    return f"{base}-{new_invite_token()[:6].lower().replace('_', 'x').replace('-', 'x')}"


def group_create(
    *, creator, text: Text, name: str, description: str = "", submission_id=None
) -> StudyGroup:
    """A new group with its creator as facilitator. The same form sent again (same
    `submission_id`, same text, name and description) returns the group it made; sent
    again for another group (a page restored by Back), it makes that one."""
    submission_id = submissions.with_content(submission_id, creator.pk, text.pk, name, description)
    made = StudyGroup.objects.filter(
        submission_id=submission_id,
        memberships__user=creator,
        text=text,
        name=name,
        description=description,
    )
    existing, submission_id = submissions.made_before(
        submission_id, used=StudyGroup.objects.filter(submission_id=submission_id), made=made.first
    )
    if existing:
        return existing

    def create(submission_id) -> StudyGroup:
        with transaction.atomic():
            group = StudyGroup.objects.create(
                text=text,
                name=name,
                description=description,
                slug=_unique_group_slug(name),
                submission_id=submission_id,
            )
            Membership.objects.create(group=group, user=creator, role=Membership.Role.FACILITATOR)
        return group

    try:
        return create(submission_id)
    except IntegrityError:
        if submission_id is None:
            raise
    # The form sent twice at once (the unique constraint decided): the same group is the
    # one the first made; another group is made without the id.
    return made.first() or create(None)


NOTEBOOK_NAME = "My notebook"
NOTEBOOK_DESCRIPTION = "Your private notes on this text. Only you can see them."


def reader_time_zone_set(*, user, time_zone: str) -> ReaderSettings:
    """The reader's time zone: an IANA name such as "Europe/Berlin", or "" for the site's."""
    if time_zone and not is_zone(time_zone):
        raise ValidationError({"time_zone": "Choose a time zone from the list."})
    reader_settings, _ = ReaderSettings.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone}
    )
    return reader_settings


def notebooks_ensure(*, readers, texts) -> None:
    """Every reader has a private notebook (a one-member group) for every text.

    Called when a reader signs in and when a text is added, so that showing a page
    never has to create one. Idempotent and safe under concurrency: the unique
    constraints settle races (ON CONFLICT DO NOTHING)."""
    readers, texts = list(readers), list(texts)
    if not readers or not texts:
        return
    with transaction.atomic():
        StudyGroup.objects.bulk_create(
            [
                StudyGroup(
                    text=text,
                    notebook_owner=reader,
                    name=NOTEBOOK_NAME,
                    description=NOTEBOOK_DESCRIPTION,
                    slug=_unique_group_slug(f"notebook {reader.username}"),
                )
                for reader in readers
                for text in texts
            ],
            ignore_conflicts=True,
        )
        owners_missing = StudyGroup.objects.filter(
            notebook_owner__in=readers, text__in=texts
        ).exclude(memberships__user_id=F("notebook_owner_id"))
        Membership.objects.bulk_create(
            [
                Membership(group_id=pk, user_id=owner_id, role=Membership.Role.FACILITATOR)
                for pk, owner_id in owners_missing.values_list("pk", "notebook_owner_id")
            ],
            ignore_conflicts=True,
        )


def notebook_for(*, reader, text: Text) -> StudyGroup:
    """The reader's private notebook for a text (made if it is missing)."""
    notebooks_ensure(readers=[reader], texts=[text])
    return StudyGroup.objects.get(notebook_owner=reader, text=text)


class InvitationInvalid(Exception):
    pass


class RemovedFromGroup(InvitationInvalid):
    """The reader was removed from the group while this link was current."""


def group_join(*, user, invite_token: str) -> tuple[Membership, bool]:
    """Join the group the token invites to; joining twice is harmless."""
    group = StudyGroup.objects.filter(invite_token=invite_token).first()
    if group is None or not invitation_is_valid(group):
        raise InvitationInvalid
    if Removal.objects.filter(group=group, user=user, invite_token=invite_token).exists():
        raise RemovedFromGroup
    membership, created = Membership.objects.get_or_create(
        group=group, user=user, defaults={"role": Membership.Role.MEMBER}
    )
    return membership, created


@transaction.atomic
def group_update(*, facilitator, group: StudyGroup, name: str, description: str) -> StudyGroup:
    permissions.require(permissions.may_manage_group, membership_of(facilitator, group.pk))
    group.name = name
    group.description = description
    group.full_clean()
    group.save(update_fields=["name", "description"])
    return group


def invitation_regenerate(*, facilitator, group: StudyGroup, expires_at=None) -> StudyGroup:
    permissions.require(permissions.may_manage_group, membership_of(facilitator, group.pk))
    group.invite_token = new_invite_token()
    group.invite_expires_at = expires_at
    group.save(update_fields=["invite_token", "invite_expires_at"])
    return group


class LastFacilitatorError(ValidationError):
    def __init__(self):
        super().__init__(
            "A group needs at least one facilitator: appoint another facilitator first."
        )


def _lock_memberships(group: StudyGroup) -> list[Membership]:
    # Lock every membership row of the group so that two facilitators acting at
    # the same moment are serialized and the at-least-one-facilitator rule holds.
    return list(Membership.objects.select_for_update().filter(group=group).order_by("pk"))


def _require_another_facilitator(memberships: list[Membership], leaving: Membership) -> None:
    others = [
        m for m in memberships if m.pk != leaving.pk and m.role == Membership.Role.FACILITATOR
    ]
    if not others:
        raise LastFacilitatorError


def _locked(memberships: list[Membership], pk: int) -> Membership:
    for membership in memberships:
        if membership.pk == pk:
            return membership
    raise Membership.DoesNotExist


@transaction.atomic
def membership_set_role(*, acting_user, membership: Membership, role: str) -> Membership:
    memberships = _lock_memberships(membership.group)
    actor = next((m for m in memberships if m.user_id == acting_user.pk), None)
    permissions.require(permissions.may_manage_group, actor)
    target = _locked(memberships, membership.pk)
    if role == target.role:
        return target
    if role == Membership.Role.MEMBER:
        _require_another_facilitator(memberships, target)
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def membership_remove(*, acting_user, membership: Membership) -> None:
    """A facilitator removes a member, or a member leaves (acting_user is the member)."""
    memberships = _lock_memberships(membership.group)
    actor = next((m for m in memberships if m.user_id == acting_user.pk), None)
    target = _locked(memberships, membership.pk)
    permissions.require(permissions.may_remove_member, actor, target)
    if target.role == Membership.Role.FACILITATOR:
        _require_another_facilitator(memberships, target)
    target.delete()
    if actor.pk != target.pk:
        # Removed, not left: the link they joined with must not bring them back.
        Removal.objects.update_or_create(
            group_id=target.group_id,
            user_id=target.user_id,
            defaults={"invite_token": target.group.invite_token},
        )


def meeting_save(*, facilitator, meeting: Meeting, submission_id=None) -> Meeting:
    """Schedule a meeting or save its changes. Scheduling with the same form again (same
    `submission_id`, same time, passages and agenda) returns the meeting it made."""
    permissions.require(permissions.may_manage_group, membership_of(facilitator, meeting.group_id))
    meeting.full_clean()
    if meeting.pk is not None or submission_id is None:
        meeting.save()
        return meeting
    submission_id = submissions.with_content(
        submission_id,
        meeting.group_id,
        meeting.starts_at,
        meeting.duration_minutes,
        meeting.first_position,
        meeting.last_position,
        meeting.agenda,
    )
    made = Meeting.objects.filter(
        group_id=meeting.group_id,
        submission_id=submission_id,
        cancelled_at__isnull=True,
        starts_at=meeting.starts_at,
        duration_minutes=meeting.duration_minutes,
        first_position=meeting.first_position,
        last_position=meeting.last_position,
        agenda=meeting.agenda,
    )
    existing, meeting.submission_id = submissions.made_before(
        submission_id,
        used=Meeting.objects.filter(group_id=meeting.group_id, submission_id=submission_id),
        made=made.first,
    )
    if existing:
        return existing
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        # The form sent twice at once (the unique constraint decided): the same meeting
        # is the one the first made; another meeting is made without the id.
        if existing := made.first():
            return existing
        meeting.submission_id = None
        meeting.save()
    return meeting


def meeting_cancel(*, facilitator, meeting: Meeting) -> Meeting:
    permissions.require(permissions.may_manage_group, membership_of(facilitator, meeting.group_id))
    if meeting.cancelled_at is None:
        meeting.cancelled_at = timezone.now()
        meeting.save(update_fields=["cancelled_at", "updated_at"])
    return meeting


@transaction.atomic
def calendar_feed_renew(*, user) -> CalendarFeed:
    """The user's calendar address, new: any address they had stops working."""
    CalendarFeed.objects.filter(user=user).delete()
    return CalendarFeed.objects.create(user=user)


def calendar_feed_stop(*, user) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def meeting_restore(*, facilitator, meeting: Meeting) -> Meeting:
    """Undo a cancellation: the meeting is on again, as it was."""
    permissions.require(permissions.may_manage_group, membership_of(facilitator, meeting.group_id))
    if meeting.cancelled_at is not None:
        meeting.cancelled_at = None
        meeting.save(update_fields=["cancelled_at", "updated_at"])
    return meeting
