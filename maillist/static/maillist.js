// maillist's small bit of JavaScript: the modal dialog that htmx fills.
// The server sends a whole <dialog> into #modal-root; we open it, close it on Escape, the
// close button or a "close-modal" event from the server, and give focus back afterwards.
(function () {
  "use strict";
  let opener = null;

  function root() { return document.getElementById("modal-root"); }

  function openDialogs() {
    root().querySelectorAll("dialog:not([open])").forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        dialog.remove();
        if (opener && document.contains(opener)) { opener.focus(); }
        opener = null;
      });
      dialog.showModal();
    });
  }

  function closeDialogs() {
    root().querySelectorAll("dialog[open]").forEach(function (dialog) { dialog.close(); });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    if (target && target.id === "modal-root" && !root().querySelector("dialog[open]")) {
      opener = document.activeElement;
    }
  });
  document.addEventListener("htmx:afterSettle", openDialogs);
  document.addEventListener("close-modal", closeDialogs);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-modal]")) { closeDialogs(); }
  });
})();
