// Start Det Fælles Designsystem's components (accordions, menus, the mobile drawer, etc.).
if (window.DKFDS) { window.DKFDS.init(); }

// The design system names the overflow button of the main menu in Danish; give it the page's language.
(function () {
  var nav = document.querySelector(".navigation-menu .nav[data-more-label]");
  var more = document.querySelector(".navigation-menu .more-button span");
  if (nav && more) { more.textContent = nav.getAttribute("data-more-label"); }
})();

// Mark the menu entry for the part of the portal that is shown, in the desktop menu and the drawer.
document.querySelectorAll(".navigation-menu .nav-link, .navigation-menu-mobile .nav-link").forEach(function (link) {
  var path = new URL(link.href).pathname;
  if (path !== "/" && window.location.pathname.indexOf(path) === 0) {
    link.setAttribute("aria-current", "page");
    link.parentElement.classList.add("active", "current");
  }
});

// Buttons marked data-print open the browser's print dialog (where "Save as PDF" is offered).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// Session timeout warning (Det Fælles Designsystem's pattern). The session ends after
// data-session-seconds without a request; data-warn-seconds before that a dialog offers to stay
// logged in. Activity in another tab of the portal counts too (the last request's time is shared
// through localStorage). When the time is up, the page logs out and keeps what was typed in its
// forms for this tab (sessionStorage), so the form is filled in again after the next login.
(function () {
  var dialog = document.getElementById("session-timeout");
  var ACTIVITY_KEY = "fuldmagt.lastActivity";
  var DRAFT_KEY = "fuldmagt.draft:";

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      var type = (field.type || "").toLowerCase();
      return field.name && field.name !== "csrfmiddlewaretoken" &&
        ["password", "hidden", "file", "submit", "button"].indexOf(type) === -1;
    });
  }

  // Put back what was typed before a timeout, once, on the page it was typed on.
  (function restoreDraft() {
    var key = DRAFT_KEY + window.location.pathname;
    var saved = window.sessionStorage.getItem(key);
    if (!saved || !document.querySelector("main form[method=post]")) { return; }
    window.sessionStorage.removeItem(key);
    var drafts = JSON.parse(saved);
    document.querySelectorAll("main form[method=post]").forEach(function (form, index) {
      var values = drafts[index] || {};
      draftFields(form).forEach(function (field) {
        if (!(field.name in values)) { return; }
        var value = values[field.name];
        if (field.type === "checkbox" || field.type === "radio") {
          field.checked = value.indexOf(field.value) !== -1;
        } else if (field.tagName === "SELECT" && field.multiple) {
          Array.prototype.forEach.call(field.options, function (option) { option.selected = value.indexOf(option.value) !== -1; });
        } else {
          field.value = value[0] || "";
        }
      });
    });
    var notice = document.getElementById("draft-restored");
    if (notice) { notice.hidden = false; }
  })();

  if (!dialog || !window.DKFDS) { return; }
  var sessionMs = parseInt(dialog.getAttribute("data-session-seconds"), 10) * 1000;
  var warnMs = parseInt(dialog.getAttribute("data-warn-seconds"), 10) * 1000;
  var modal = new window.DKFDS.Modal(dialog);
  var logoutForm = dialog.querySelector("[data-session-logout]");
  var timer = null;
  var returnFocus = null;

  function lastActivity() {
    return Math.max(parseInt(window.localStorage.getItem(ACTIVITY_KEY), 10) || 0, loadedAt);
  }
  function touch() {
    loadedAt = Date.now();
    window.localStorage.setItem(ACTIVITY_KEY, String(loadedAt));
  }
  function isOpen() { return dialog.getAttribute("aria-hidden") === "false"; }

  function saveDrafts() {
    var drafts = [];
    var any = false;
    document.querySelectorAll("main form[method=post]").forEach(function (form) {
      var values = {};
      draftFields(form).forEach(function (field) {
        if ((field.type === "checkbox" || field.type === "radio") && !field.checked) {
          values[field.name] = values[field.name] || [];
          return;
        }
        var chosen = field.tagName === "SELECT" && field.multiple
          ? Array.prototype.filter.call(field.options, function (o) { return o.selected; }).map(function (o) { return o.value; })
          : [field.value];
        values[field.name] = (values[field.name] || []).concat(chosen);
        if (field.value) { any = true; }
      });
      drafts.push(values);
    });
    if (any) { window.sessionStorage.setItem(DRAFT_KEY + window.location.pathname, JSON.stringify(drafts)); }
  }

  function check() {
    var left = lastActivity() + sessionMs - Date.now();
    if (left <= 0) {
      saveDrafts();
      logoutForm.submit();
      return;
    }
    if (left <= warnMs) {
      if (!isOpen()) {
        returnFocus = document.activeElement;
        modal.show();
      }
      timer = window.setTimeout(check, left);
      return;
    }
    if (isOpen()) { modal.hide(); restoreFocus(); }  // another tab was used meanwhile
    timer = window.setTimeout(check, left - warnMs);
  }

  function restoreFocus() {
    if (returnFocus && returnFocus.focus) { returnFocus.focus(); }
    returnFocus = null;
  }

  dialog.querySelector("[data-session-stay]").addEventListener("click", function () {
    var token = logoutForm.querySelector("[name=csrfmiddlewaretoken]").value;
    window.fetch(dialog.getAttribute("data-keepalive-url"), {
      method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": token}
    }).then(function (response) {
      if (response.status !== 204) { saveDrafts(); logoutForm.submit(); return; }
      touch();
      modal.hide();
      restoreFocus();
      window.clearTimeout(timer);
      check();
    });
  });

  var loadedAt = Date.now();
  touch();
  check();
})();
