from django.contrib import admin
from django.urls import include, path

from groups import views as group_views
from sectstudy import views

handler500 = views.server_error

urlpatterns = [
    # Password reset emails are throttled per address and per email; the rest of
    # Django's account views as they come.
    path("accounts/password_reset/", group_views.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("reading.urls")),
    # Before pages: "groups/new/" is not the page of a group called "new".
    path("", include("groups.urls")),
    path("", include("pages.urls")),
    path("", include("discussions.urls")),
    path("", include("exports.urls")),
    path("", include("search.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
