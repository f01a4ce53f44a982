from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The pages that compose reading, groups and discussions: home, contents, passage."""

    name = "pages"
    verbose_name = "Pages"
