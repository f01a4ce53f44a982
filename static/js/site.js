// Small enhancements. Everything here is optional: every page works without it.
(function () {
  "use strict";

  // htmx copies "settled" attributes from old elements to their swapped-in twins; copying
  // `style` (a textarea the reader resized) sets an inline style, which our CSP blocks.
  if (window.htmx) window.htmx.config.attributesToSettle = ["class", "width", "height"];

  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // Keyboard shortcuts on passage pages: ← / k previous, → / j next.
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (isTyping(event.target)) return;
    var link = null;
    if (event.key === "ArrowLeft" || event.key === "k") link = document.getElementById("previous-passage");
    if (event.key === "ArrowRight" || event.key === "j") link = document.getElementById("next-passage");
    if (link) {
      event.preventDefault();
      window.location.href = link.href;
    }
  });

  // "Copy link" buttons, shown only where the clipboard is available.
  function enhanceCopyButtons(root) {
    root.querySelectorAll("[data-copy-target]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copyTarget);
        navigator.clipboard.writeText(input.value).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  // "Comment on selection": select words in the passage, then quote them in the
  // comment form. Without JavaScript the reader pastes the words into the form.
  // Positions sent to the server count code points of the stored passage, as Python
  // does; DOM offsets count UTF-16 units, so an emoji before the quote counts 2 here.
  function codePoints(text) {
    return Array.from(text).length;
  }

  function selectionInPassage(body) {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    var range = selection.getRangeAt(0);
    if (!body.contains(range.startContainer) || !body.contains(range.endContainer)) return null;
    // The range's own text keeps the passage's spacing (double spaces, tabs, non-breaking
    // spaces), which the selection's rendered text collapses.
    var raw = range.toString();
    var exact = raw.trim();
    if (!exact) return null;
    var before = document.createRange();
    before.setStart(body, 0);
    before.setEnd(range.startContainer, range.startOffset);
    // Offsets count from the passage text: the markup's indentation before it is not part of it.
    var start = codePoints(before.toString().replace(/^\s+/, ""));
    // Leading whitespace in the selection is not part of the quote.
    start += codePoints(raw) - codePoints(raw.replace(/^\s+/, ""));
    return { exact: exact, start: start, range: range };
  }

  function setUpQuoting() {
    var body = document.getElementById("passage-body");
    var form = document.getElementById("comment-form");
    if (!body || !form) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "quote-button";
    button.textContent = "Comment on selection";
    button.hidden = true;
    body.parentNode.insertBefore(button, body.nextSibling);
    var current = null;

    function update() {
      current = selectionInPassage(body);
      button.hidden = !current;
    }
    document.addEventListener("selectionchange", update);
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      if (!current) return;
      var liveForm = document.getElementById("comment-form");
      liveForm.querySelector("[name=quote]").value = current.exact;
      liveForm.querySelector("[name=quote_start]").value = String(current.start);
      button.hidden = true;
      var textarea = liveForm.querySelector("textarea[name=body]");
      textarea.scrollIntoView({ block: "center" });
      textarea.focus();
    });
  }

  // A live reply whose thread is not on the page (collapsed, or not loaded yet) has nowhere
  // to go: say so rather than drop it silently.
  document.addEventListener("htmx:oobErrorNoTarget", function () {
    var notice = document.getElementById("discussion-notice");
    if (notice) notice.hidden = false;
  });

  // An htmx request the server refused (too fast, unavailable, forbidden): say so where
  // everyone notices, instead of a button that seems to do nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var alert = document.getElementById("site-alert");
    if (!alert) return;
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    var text = type.indexOf("text/plain") === 0 ? xhr.responseText : "";
    if (!text) {
      text = xhr.status === 503
        ? "sectstudy cannot reach its database just now: wait a few seconds and try again."
        : "That did not work (error " + xhr.status + "). Reload the page and try again.";
    }
    alert.textContent = text;
    alert.hidden = false;
  });

  // After a comment is posted with htmx, empty the form for the next one.
  document.addEventListener("comment-posted", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    if (form && form.id === "comment-form") {
      form.reset();
      form.querySelector("[name=quote_start]").value = "";
    }
  });

  // "Cancel" in an inline form: close it instead of leaving the page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-dismiss-slot]");
    if (!link) return;
    var slot = link.closest(".reply-slot");
    if (!slot) return;
    event.preventDefault();
    var owner = slot.closest("article");
    slot.innerHTML = "";
    if (owner) owner.querySelector(".comment-actions a, .comment-actions button").focus();
  });

  // Moving to a highlighted phrase's comment: make the target visible and focusable.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.detail.target.querySelector && event.detail.target.querySelector("textarea, input[type=text]");
    if (form && event.detail.target.classList.contains("reply-slot")) form.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    enhanceCopyButtons(document);
    setUpQuoting();
  });
})();
