from django.apps import AppConfig


class DiscussionsConfig(AppConfig):
    name = "discussions"
    verbose_name = "Discussions"

    def ready(self):
        from discussions.services import comments_follow_revision
        from reading.signals import text_revised

        # reading cannot import discussions; see reading/signals.py.
        text_revised.connect(comments_follow_revision, dispatch_uid="comments_follow_revision")
