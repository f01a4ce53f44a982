from django.urls import path

from exports import views

group = "groups/<slug:group_slug>/export"

urlpatterns = [
    path(
        f"{group}/discussion.md",
        views.export_discussion_markdown,
        name="export_discussion_markdown",
    ),
    path(f"{group}/discussion.csv", views.export_discussion_csv, name="export_discussion_csv"),
    path(f"{group}/group.json", views.export_group_json, name="export_group_json"),
]
