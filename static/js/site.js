// Small enhancements. Everything here is optional: every page works without it.
(function () {
  "use strict";

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

  document.addEventListener("DOMContentLoaded", function () {
    enhanceCopyButtons(document);
  });
})();
