"""`{% passage_activity activity passage.position as act %}`: a passage's discussion
activity on the contents page, from the dict the view computed in one query."""

from django import template

register = template.Library()


@register.simple_tag
def passage_activity(activity, position):
    return activity.get(position) if activity else None
