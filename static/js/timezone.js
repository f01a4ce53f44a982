// Tell the server the reader's time zone, so that times are shown (and typed into
// forms) in it: sectstudy.middleware.ReaderTimeZoneMiddleware reads this cookie.
(function () {
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) return;
  var current = document.cookie.split("; ").find(function (item) { return item.indexOf("tz=") === 0; });
  if (current === "tz=" + zone) return;
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
    (location.protocol === "https:" ? "; Secure" : "");
})();
