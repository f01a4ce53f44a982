from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("pages.urls")),
    path("", include("reading.urls")),
    path("", include("groups.urls")),
    path("", include("discussions.urls")),
    path("admin/", admin.site.urls),
]
