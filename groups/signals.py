"""Private notebooks exist before anyone opens a page: made when a reader signs in
and when a text is added (groups.services.notebooks_ensure)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from groups import timezones
from groups.services import notebooks_ensure
from reading.models import Text


@receiver(user_logged_in, dispatch_uid="notebooks_for_reader")
def notebooks_for_reader(sender, request, user, **kwargs):
    notebooks_ensure(readers=[user], texts=Text.objects.all())


@receiver(user_logged_in, dispatch_uid="time_zone_for_reader")
def time_zone_for_reader(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        timezones.remember(request, user, timezones.reader_zone_name(user))


@receiver(post_save, sender=Text, dispatch_uid="notebooks_for_text")
def notebooks_for_text(sender, instance, created, **kwargs):
    if created:
        notebooks_ensure(readers=get_user_model().objects.filter(is_active=True), texts=[instance])
