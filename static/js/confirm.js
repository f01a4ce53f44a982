// Destructive actions ask first, in a dialog. Each is a link to its confirmation page
// (templates/confirm.html), which is where it leads without JavaScript. With it, a click on
// a link marked data-confirm-dialog fetches that page and shows its [data-confirm] part in a
// modal <dialog> here: focus moves into it, Escape or the "keep" button closes it, and focus
// returns to the link. Confirming posts the page's form as the page would, or, where the
// link names a data-confirm-target, through htmx, swapping that element in place.
(function () {
  "use strict";

  var PREFIX = "dialog-";
  var REFERENCES = ["for", "aria-labelledby", "aria-describedby", "aria-controls", "form", "list"];
  var pending = false;

  // The confirmation part's ids, made its own beside the page's (both may have id_body).
  function renameIds(root) {
    root.querySelectorAll("[id]").forEach(function (element) {
      element.id = PREFIX + element.id;
    });
    REFERENCES.forEach(function (name) {
      root.querySelectorAll("[" + name + "]").forEach(function (element) {
        var ids = element.getAttribute(name).split(/\s+/).filter(Boolean);
        element.setAttribute(name, ids.map(function (id) { return PREFIX + id; }).join(" "));
      });
    });
  }

  // The least destructive choice, or the first thing to fill in.
  function firstFocus(dialog) {
    return dialog.querySelector("input:not([type=hidden]), select, textarea") ||
      dialog.querySelector("[data-confirm-keep]");
  }

  // After an htmx swap the link may be gone with what it deleted: focus what took its place,
  // else the comment it was in, else the page's main region.
  function focusAfter(link, target, fallback) {
    var element = link.isConnected ? link : (target && document.querySelector(target)) || fallback;
    if (!element || !element.isConnected) element = document.getElementById("main");
    if (!element) return;
    if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
  }

  function show(link, html) {
    var part = new DOMParser().parseFromString(html, "text/html").querySelector("[data-confirm]");
    if (!part) return false;
    var content = document.importNode(part, true);
    content.removeAttribute("data-confirm");
    renameIds(content);
    // One heading level below the page's own title.
    var heading = content.querySelector("h1");
    if (heading) {
      var h2 = document.createElement("h2");
      h2.id = heading.id;
      while (heading.firstChild) h2.appendChild(heading.firstChild);
      heading.replaceWith(h2);
    }
    // "Keep it" leads back to the page without JavaScript; here it closes the dialog.
    var keepLink = content.querySelector("[data-confirm-keep]");
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "secondary";
    keep.setAttribute("data-confirm-keep", "");
    keep.textContent = keepLink ? keepLink.textContent : "Cancel";
    if (keepLink) keepLink.replaceWith(keep);
    else content.appendChild(keep);

    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", PREFIX + "confirm-heading");
    if (content.querySelector("#" + PREFIX + "confirm-details")) {
      dialog.setAttribute("aria-describedby", PREFIX + "confirm-details");
    }
    dialog.appendChild(content);
    var target = link.getAttribute("data-confirm-target");
    var swapped = (target && document.querySelector(target)) || link;
    // Where focus goes if the whole comment leaves: what holds it (a thread or the discussion).
    var owner = swapped.closest(".comment") || swapped;
    var fallback = owner.parentElement && owner.parentElement.closest(".comment, section, main");
    keep.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      dialog.remove();
      focusAfter(link, target, fallback);
    });
    var form = content.querySelector("form");
    if (target && form && window.htmx) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var done = function () { if (dialog.open) dialog.close(); };
        window.htmx.ajax("POST", form.action, { source: form, target: target, swap: "outerHTML" })
          .then(done, done);
      });
    }
    document.body.appendChild(dialog);
    dialog.showModal();
    var first = firstFocus(dialog);
    if (first) first.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm-dialog]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    if (typeof HTMLDialogElement !== "function" || !window.fetch || !window.DOMParser) return;
    event.preventDefault();
    if (pending) return;
    pending = true;
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // Anything but the confirmation page (logged out, gone, refused): go there instead.
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (!show(link, html)) window.location.assign(link.href);
      })
      .catch(function () { window.location.assign(link.href); })
      .finally(function () { pending = false; });
  });
})();
