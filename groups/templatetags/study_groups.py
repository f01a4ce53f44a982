"""Template tags of study groups. `{% permitted "may_edit_comment" membership comment as may_edit %}`: templates ask
the same named rules as views and services (groups.permissions)."""

from django import template

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
