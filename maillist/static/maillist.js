// maillist's small bit of JavaScript: the modal dialog that htmx fills.
// The server sends a whole <dialog> into #modal-root; we open it, close it on Escape, the
// close button or a "close-modal" event from the server, and give focus back afterwards,
// also when the element that opened it was swapped for a fresh copy in the meantime.
(function () {
  "use strict";
  let opener = null;

  function root() { return document.getElementById("modal-root"); }

  function remember(element) {
    const holder = element && element.closest("[id]");
    opener = element && {
      element: element,
      holderId: holder ? holder.id : null,
      href: element.getAttribute("href") || element.getAttribute("hx-get"),
    };
  }

  function restoreFocus() {
    if (!opener) { return; }
    let target = opener.element;
    if (!document.contains(target) && opener.holderId) {
      const holder = document.getElementById(opener.holderId);
      target = holder && opener.href ? holder.querySelector('[href="' + opener.href + '"]') : null;
    }
    if (target && document.contains(target)) { target.focus(); }
    opener = null;
  }

  function openDialogs() {
    root().querySelectorAll("dialog:not([open])").forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        dialog.remove();
        restoreFocus();
      });
      dialog.showModal();
      // Open on the field to fix (one marked invalid), else the first field, not the close button.
      const field = dialog.querySelector('[aria-invalid="true"]')
        || dialog.querySelector('[data-autofocus], input:not([type=hidden]):not([readonly]), select, textarea');
      if (field) { field.focus(); }
    });
  }

  function closeDialogs() {
    root().querySelectorAll("dialog[open]").forEach(function (dialog) { dialog.close(); });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    if (target && target.id === "modal-root" && !root().querySelector("dialog[open]")) {
      remember(document.activeElement);
    }
  });
  document.addEventListener("htmx:afterSettle", openDialogs);
  document.addEventListener("close-modal", closeDialogs);
  document.addEventListener("click", function (event) {
    // In a dialog, Cancel closes it; its link is the way back for the page without JavaScript.
    if (event.target.closest("[data-close-modal]") && root().querySelector("dialog[open]")) {
      event.preventDefault();
      closeDialogs();
    }
  });
  // A plain form (no hx-post) that asks for confirmation: htmx confirms its own requests.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[hx-confirm]:not([hx-post])") && !window.confirm(form.getAttribute("hx-confirm"))) {
      event.preventDefault();
    }
  });

  // Back/Forward: htmx restores the page from its snapshot, whose fields hold the values they were
  // rendered with, not what was typed since. The address bar holds the query (the filter forms
  // replace it as they search), so the fields are set from it again; a hidden field the URL does
  // not name (sorting by default) stays as restored.
  function syncFormsFromUrl() {
    const params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-sync-from-url]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.type === "submit") { return; }
        if (params.has(field.name)) {
          field.value = params.get(field.name);
        } else if (field.type !== "hidden" && (field.tagName !== "SELECT" || field.querySelector('option[value=""]'))) {
          field.value = "";
        }
      });
    });
  }
  document.addEventListener("htmx:historyRestore", syncFormsFromUrl);
  window.addEventListener("pageshow", syncFormsFromUrl);

  // On a phone the filters and the bulk actions fold away at first, so the members come first; a
  // tap opens them. The bulk panel comes back with every fresh table, folded again.
  function foldPanels() {
    if (window.matchMedia("(max-width: 640px)").matches) {
      // Each panel once: one the person has opened since stays open.
      document.querySelectorAll("details.more-filters[open]:not([data-folded])").forEach(function (panel) {
        panel.open = false;
        panel.dataset.folded = "";
      });
    }
  }
  foldPanels();
  document.addEventListener("htmx:afterSettle", foldPanels);

  // The search box searches as it is typed (its input event). Its change event, when focus leaves
  // it, would fetch the same table again and drop the boxes just ticked, so it stops here.
  document.addEventListener("change", function (event) {
    if (event.target.matches("form[data-sync-from-url] input[type=search]")) { event.stopPropagation(); }
  }, true);

  // After a change the status region says what happened, and the table refreshes itself: the
  // control that was used is gone, so focus would fall to the page; it goes to the message instead.
  let announceUntil = 0;
  document.addEventListener("htmx:afterSettle", function (event) {
    const flashes = document.getElementById("flashes");
    if (!flashes) { return; }
    if (event.detail.target && event.detail.target.id === "flashes" && flashes.textContent.trim()) {
      announceUntil = Date.now() + 2000;
    }
    const lost = document.activeElement === document.body || !document.contains(document.activeElement);
    if (lost && Date.now() < announceUntil && !document.querySelector("dialog[open]")) {
      flashes.focus();
      announceUntil = 0;
    }
  });

  // The members table's "select every member on this page" box: shown only where JavaScript runs.
  function enableSelectPage() {
    document.querySelectorAll("input[data-select-page][hidden]").forEach(function (box) { box.hidden = false; });
  }
  document.addEventListener("htmx:afterSettle", enableSelectPage);
  enableSelectPage();
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (box.matches("input[data-select-page]")) {
      box.closest("table").querySelectorAll('tbody input[name="ids"]').forEach(function (row) { row.checked = box.checked; });
    }
  });

  // hx-confirm asks in a dialog of the page's own, not the browser's confirm(): the question says
  // the consequence, Cancel is where focus starts, Escape cancels.
  document.addEventListener("htmx:confirm", function (event) {
    const question = event.detail.question;
    if (!question) { return; }
    event.preventDefault();
    const dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-question");
    const text = document.createElement("p");
    text.id = "confirm-question";
    text.textContent = question;
    const actions = document.createElement("div");
    actions.className = "form-actions";
    const confirm = document.createElement("button");
    confirm.type = "button";
    confirm.className = "danger";
    confirm.textContent = "Confirm";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    actions.append(confirm, cancel);
    dialog.append(text, actions);
    const opener = document.activeElement;
    confirm.addEventListener("click", function () {
      dialog.close();
      event.detail.issueRequest(true);
    });
    cancel.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (opener && document.contains(opener)) { opener.focus(); }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });

  // A row's Actions menu closes as menus do: on Escape (focus back on its button), on a click
  // outside it, and when another one opens; so it never stays over the rows below.
  function closeMenus(except) {
    document.querySelectorAll("details.row-menu[open]").forEach(function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    const menu = document.activeElement && document.activeElement.closest("details.row-menu[open]");
    if (menu) {  // (Escape in a dialog the menu opened closes the dialog only)
      menu.open = false;
      menu.querySelector("summary").focus();
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.row-menu"));
  });

  // A swap that took the focused element away (the Reset form, once the reset is confirmed) would
  // leave focus on the page itself: it goes to what the answer says instead, or the region swapped.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (document.activeElement && document.activeElement !== document.body) { return; }
    let region = event.detail.target;
    if (region && !document.contains(region) && region.id) {
      region = document.getElementById(region.id);  // an outerHTML swap: its fresh copy
    }
    if (!region || !document.contains(region)) { return; }
    const spot = region.querySelector(".flash") || region;
    if (!spot.hasAttribute("tabindex")) { spot.setAttribute("tabindex", "-1"); }
    spot.focus();
  });

  // A folded filter panel still says how many filters are on, so "2 members" is never a mystery.
  function countFilters() {
    document.querySelectorAll("[data-filters-on]").forEach(function (badge) {
      const panel = badge.closest("details");
      const on = Array.from(panel.querySelectorAll("select")).filter(function (select) {
        return select.name !== "per_page" && select.name !== "sort" && select.name !== "order" && select.value !== "";
      }).length;
      badge.textContent = on ? " (" + on + " on)" : "";
    });
  }
  countFilters();
  document.addEventListener("change", countFilters);
  document.addEventListener("htmx:afterSettle", countFilters);

  // Ticks live in the table: a new search, filter or page size brings a fresh table without them,
  // and the status region says so rather than letting them vanish unnoticed.
  let ticksBefore = 0;
  document.addEventListener("htmx:beforeRequest", function (event) {
    // (The table refreshing itself after a bulk action clears them on purpose: that answer says what was done.)
    const asked = event.detail.target && event.detail.target.id === "members-table" && event.detail.elt.id !== "members-table";
    ticksBefore = asked ? document.querySelectorAll('#members-table input[name="ids"]:checked').length : 0;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!ticksBefore || !event.detail.target || event.detail.target.id !== "members-table") { return; }
    const flashes = document.getElementById("flashes");
    if (flashes) {
      const note = document.createElement("div");
      note.className = "flash flash-info";
      note.textContent = ticksBefore + (ticksBefore === 1 ? " tick was" : " ticks were") +
        " cleared: the table changed. Tick again, or act on all matching the filters.";
      flashes.replaceChildren(note);
    }
    ticksBefore = 0;
  });
})();
