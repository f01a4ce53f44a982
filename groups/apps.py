from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "Study groups"

    def ready(self):
        from groups import signals  # noqa: F401  (connects the notebook receivers)
