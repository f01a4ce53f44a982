from discussions.selectors import unread_notification_count


def notifications(request):
    """The unread count shown in the header; one query, only for signed-in users."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": unread_notification_count(user)}
