"""`{% permitted "may_edit_comment" membership comment as may_edit %}`: templates ask
the same named rules as views and services (groups.permissions)."""

from django import template

from groups import permissions

register = template.Library()


@register.simple_tag
def permitted(rule_name: str, membership, *args) -> bool:
    return permissions.permitted(rule_name, membership, *args)
