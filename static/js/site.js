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

  // Keyboard shortcuts on passage pages: ← / k previous, → / j next. Their hint is
  // hidden until this script runs: without JavaScript there are none.
  document.querySelectorAll(".shortcuts-hint").forEach(function (hint) { hint.hidden = false; });
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

  // Where the "Comment" button goes: just below the end of the selection (below the
  // native handles on a touch screen), or above its start when that would leave the
  // viewport; always inside the viewport. Returns viewport coordinates.
  function buttonPlace(range, width, height) {
    var rects = range.getClientRects();
    if (!rects.length) return null;
    var first = rects[0];
    var last = rects[rects.length - 1];
    var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    var margin = 8;
    var top = last.bottom + (touch ? 28 : 6);
    if (top + height > window.innerHeight - margin) top = first.top - height - (touch ? 12 : 6);
    top = Math.max(margin, Math.min(top, window.innerHeight - height - margin));
    var left = last.right - width / 2;
    left = Math.max(margin, Math.min(left, document.documentElement.clientWidth - width - margin));
    return { top: top, left: left };
  }

  function composerForm() {
    return document.getElementById("comment-form");
  }

  // An open "Re-attach to new words" form takes the selection instead of the composer.
  function reattachForm() {
    return document.querySelector("form[data-quote-form]");
  }

  function setUpQuoting() {
    var body = document.getElementById("passage-body");
    if (!body || !composerForm()) return;
    var holder = body.closest(".passage") || body.parentNode;
    var button = document.createElement("button");
    button.type = "button";
    button.id = "quote-button";
    button.className = "quote-button";
    var label = document.createTextNode("Comment");
    button.appendChild(label);
    var more = document.createElement("span");
    more.className = "visually-hidden";
    more.textContent = " on selection";
    button.appendChild(more);
    button.hidden = true;
    // Right after the passage in the document: Tab from the selected words reaches it.
    body.parentNode.insertBefore(button, body.nextSibling);
    var current = null;

    function place() {
      if (!current) return;
      button.hidden = false;
      var spot = buttonPlace(current.range, button.offsetWidth, button.offsetHeight);
      if (!spot) return;
      var origin = holder.getBoundingClientRect();
      // Set through the CSSOM, which the Content Security Policy allows (no style="").
      button.style.top = Math.round(spot.top - origin.top) + "px";
      button.style.left = Math.round(spot.left - origin.left) + "px";
    }

    function update() {
      if (document.activeElement === button) return; // keep it while the reader moves to it
      current = selectionInPassage(body);
      var reattaching = Boolean(reattachForm());
      label.textContent = reattaching ? "Use these words" : "Comment";
      more.textContent = reattaching ? " for the quote" : " on selection";
      if (current) place();
      else button.hidden = true;
    }
    document.addEventListener("selectionchange", update);
    window.addEventListener("resize", place);
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    // Keyboard: with words selected, Tab goes to the button first.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Tab" || event.shiftKey || button.hidden || !current) return;
      var active = document.activeElement;
      if (active && active !== document.body && !body.contains(active) && active.id !== "main") return;
      event.preventDefault();
      button.focus();
    });
    button.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        button.hidden = true;
        current = null;
      }
    });
    button.addEventListener("blur", function () {
      if (!selectionInPassage(body)) button.hidden = true;
    });
    button.addEventListener("click", function () {
      if (!current) return;
      var reattach = reattachForm();
      if (reattach) {
        reattach.querySelector("[name=quote]").value = current.exact;
        reattach.querySelector("[name=quote_start]").value = String(current.start);
        button.hidden = true;
        current = null;
        reattach.querySelector("[type=submit]").focus();
        return;
      }
      var form = composerForm();
      form.querySelector("[name=quote]").value = current.exact;
      form.querySelector("[name=quote_start]").value = String(current.start);
      button.hidden = true;
      current = null;
      var composer = document.getElementById("composer");
      if (composer) composer.open = true;
      var textarea = form.querySelector("textarea[name=body]");
      textarea.scrollIntoView({ block: "center", behavior: motion() });
      textarea.focus({ preventScroll: true });
    });
  }

  function motion() {
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return reduce ? "auto" : "smooth";
  }

  // Brings an element into view, focuses it and makes it flash briefly.
  function reveal(element, focusable) {
    if (!element) return;
    var target = focusable || element;
    if (!target.hasAttribute("tabindex") && !target.matches("a[href], button, input, textarea, select")) {
      target.setAttribute("tabindex", "-1");
    }
    element.scrollIntoView({ block: "center", behavior: motion() });
    target.focus({ preventScroll: true });
    element.classList.remove("is-flash");
    void element.offsetWidth; // restart the animation
    element.classList.add("is-flash");
  }

  // A highlighted phrase leads to its comment; a comment's quote leads back to its phrase.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.quote-link, .comment-quote a[href^='#quote-']");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    history.replaceState(null, "", "#" + target.id);
    if (target.classList.contains("comment")) {
      reveal(target);
    } else {
      // A phrase: its <mark> (the id is the mark's, or a marker inside it where phrases overlap).
      var mark = target.closest("mark");
      if (!mark) return;
      var own = 'a[href="#comment-' + target.id.replace("quote-", "") + '"]';
      reveal(mark, mark.querySelector(own) || mark.querySelector("a.quote-link"));
    }
  });

  // Others' new comments arrive held back; "N new comments: show" at the top of the
  // discussion inserts them in place.
  function pendingComments() {
    return document.querySelectorAll("#threads .pending-comment[hidden]");
  }

  function updateNewCommentsBar() {
    var bar = document.getElementById("new-comments");
    var button = document.getElementById("show-new-comments");
    if (!bar || !button) return;
    var count = pendingComments().length;
    button.textContent = count + " new comment" + (count === 1 ? "" : "s") + ": show";
    bar.hidden = count === 0;
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#show-new-comments")) return;
    var shown = [];
    pendingComments().forEach(function (holder) {
      var comment = holder.firstElementChild;
      if (comment) shown.push(comment);
      holder.replaceWith.apply(holder, Array.prototype.slice.call(holder.childNodes));
    });
    updateNewCommentsBar();
    shown.forEach(function (comment) { comment.classList.add("is-flash"); });
    if (shown.length) reveal(shown[0]);
    // Others' quotes: fetch the passage with their phrases highlighted.
    var body = document.getElementById("passage-body");
    var quoted = shown.some(function (comment) {
      var link = comment.querySelector(":scope > .comment-self > .comment-quote a[href^='#quote-']");
      return link && !document.getElementById(link.getAttribute("href").slice(1));
    });
    if (quoted && body && body.dataset.highlightsUrl && window.htmx) {
      window.htmx.ajax("GET", body.dataset.highlightsUrl, { target: "#passage-text", swap: "outerHTML" });
    }
  });

  document.addEventListener("htmx:afterSettle", updateNewCommentsBar);

  // A live reply whose thread is not on the page (collapsed, or not loaded yet) has nowhere
  // to go: say so rather than drop it silently.
  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    // A change to a comment that is not on the page (a thread not loaded) needs nothing.
    var content = event.detail && event.detail.content;
    if (content && content.classList && content.classList.contains("comment-self")) return;
    var notice = document.getElementById("discussion-notice");
    if (notice) notice.hidden = false;
  });

  // A new action by the reader retires the last complaint, which would otherwise stay up
  // after it no longer applies; the live poll is not the reader acting.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var alert = document.getElementById("site-alert");
    if (!alert || alert.hidden || event.target.id === "comment-poller") return;
    alert.hidden = true;
    alert.textContent = "";
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

  // After a comment or a reply is posted with htmx, empty the form for the next one,
  // fold the composer and show the new comment where it now stands, focused.
  var posted = null;
  document.addEventListener("comment-posted", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    if (form && form.id === "comment-form") {
      form.reset();
      form.querySelector("[name=quote_start]").value = "";
      var composer = document.getElementById("composer");
      if (composer) composer.open = false;
    }
    posted = event.detail && event.detail.id;
  });
  // When a form in a comment's slot (edit, hide...) has done its work, it is gone, and
  // focus with it: give it back to the action that opened it, as Cancel does.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (posted) {
      // Settling comes after every part of the answer is swapped in: it is there now.
      var comment = document.getElementById("comment-" + posted);
      posted = null;
      if (comment) return reveal(comment);
    }
    var request = event.detail && event.detail.requestConfig;
    var form = request && request.elt;
    if (!form || form.tagName !== "FORM" || document.contains(form)) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    var number = /-(\d+)$/.exec(form.id || "");
    if (number) focusSlotOwner("reply-slot-" + number[1]);
  });

  // Which action opened each comment's slot (Reply, Edit, Hide...): focus goes back to
  // it when the form there closes.
  var slotOpeners = {};
  document.addEventListener("htmx:beforeRequest", function (event) {
    var opener = event.detail && event.detail.elt;
    var target = opener && opener.getAttribute && opener.getAttribute("data-hx-target");
    if (target && target.indexOf("#reply-slot-") === 0) slotOpeners[target.slice(1)] = opener;
  });
  function focusSlotOwner(slotId) {
    var opener = slotOpeners[slotId];
    if (opener && document.contains(opener)) return opener.focus();
    // The comment was drawn again (an edit saved): its own link of the same address.
    var owner = document.getElementById(slotId.replace("reply-slot-", "comment-"));
    if (!owner) return;
    var href = opener && opener.getAttribute("href");
    var same = href && Array.prototype.find.call(owner.querySelectorAll(".comment-actions a"), function (link) {
      return link.getAttribute("href") === href;
    });
    var action = same || owner.querySelector(".comment-actions a, .comment-actions button");
    if (action) action.focus();
  }

  // "Cancel" in an inline form: close it instead of leaving the page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-dismiss-slot]");
    if (!link) return;
    var slot = link.closest(".reply-slot");
    if (!slot) return;
    event.preventDefault();
    slot.innerHTML = "";
    focusSlotOwner(slot.id);
  });

  // Escape in an inline form (reply, edit, hide) closes it as Cancel does, unless words
  // were typed there: those are not thrown away by a stray key.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var form = event.target.closest && event.target.closest(".reply-slot form");
    if (!form) return;
    var typed = Array.prototype.some.call(form.querySelectorAll("textarea, input[type=text]"), function (field) {
      return field.value !== field.defaultValue;
    });
    var cancel = form.querySelector("[data-dismiss-slot]");
    if (typed || !cancel) return;
    event.preventDefault();
    cancel.click();
  });

  // Moving to a highlighted phrase's comment: make the target visible and focusable.
  document.addEventListener("htmx:afterSwap", function (event) {
    // A page restored from htmx's history (Back) swaps with no target.
    var target = event.detail && event.detail.target;
    if (!target || !target.classList || !target.classList.contains("reply-slot")) return;
    var form = target.querySelector("textarea, input[type=text]");
    if (form) form.focus();
  });

  // The phone header's menu (a <details>): Escape or a click elsewhere closes it.
  function closeMenus(except) {
    document.querySelectorAll("details.nav-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.nav-menu[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest && event.target.closest("details.nav-menu"));
  });

  // Time zone fields: propose the browser's own zone where none is chosen yet.
  function proposeBrowserZone() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { return; }
    document.querySelectorAll("select[data-propose-browser-zone]").forEach(function (select) {
      if (select.value || !zone) return;
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
      if (option) select.value = zone;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    proposeBrowserZone();
    enhanceCopyButtons(document);
    setUpQuoting();
  });
})();
