"""Template tags of study groups. `{% permitted "may_edit_comment" membership comment as may_edit %}`: templates ask
the same named rules as views and services (groups.permissions)."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.timesince import timesince

from groups import permissions

register = template.Library()


@register.simple_tag
def permitted(rule_name: str, membership, *args) -> bool:
    return permissions.permitted(rule_name, membership, *args)


@register.simple_tag
def group_passage_url(group, position: int, *anchor_parts, shown: int | None = None) -> str:
    """`{% group_passage_url group passage.position "comment" comment.pk %}`: a passage
    with this group's discussion beside it (StudyGroup.passage_url), optionally at an
    anchor and showing `shown` threads."""
    anchor = "-".join(str(part) for part in anchor_parts)
    url = group.passage_url(position)
    if shown is not None:
        url += f"&shown={shown}"
    return f"{url}#{anchor}" if anchor else url


AGO_SHOWS_DATE_AFTER = timedelta(days=7)


@register.filter
def ago(value) -> str:
    """A past moment as the reader thinks of it: "just now", "5 minutes ago", "3 hours
    ago", "2 days ago"; after a week, the date ("4 Nov 2026"). The full date and time
    go in the <time> element's title and datetime."""
    if not value:
        return ""
    elapsed = timezone.now() - value
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < AGO_SHOWS_DATE_AFTER:
        return f"{timesince(value, depth=1)} ago"
    return date_format(timezone.localtime(value), "j M Y")


def ago_key(value) -> str:
    """What `ago` shows, for a cache key, without formatting a date for it: after a
    week it shows the date, which the time zone (in the key as well) fixes."""
    if not value:
        return ""
    if timezone.now() - value >= AGO_SHOWS_DATE_AFTER:
        return "date"
    return ago(value)
