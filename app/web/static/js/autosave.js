// Autosave feedback for htmx forms (CSP-safe: no inline script). When a save cannot reach the
// server or is refused before the view runs (an expired session's CSRF token, a network
// failure), the text stays in the field and the status next to it says so.
(function () {
  "use strict";
  function statusFor(element) {
    var id = element && element.getAttribute("hx-target");
    return id ? document.querySelector(id) : null;
  }
  function say(event, text) {
    var status = statusFor(event.detail.elt);
    if (status) {
      status.textContent = text;
      status.className = "form-text text-danger";
    }
  }
  document.addEventListener("htmx:responseError", function (event) {
    say(event, document.body.dataset.autosaveRefused ||
      "Not saved: your session may have expired. Your text is still here; log in again in another tab.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    say(event, document.body.dataset.autosaveOffline ||
      "Not saved: the server cannot be reached. Your text is still here; it saves when you type again.");
  });
})();
