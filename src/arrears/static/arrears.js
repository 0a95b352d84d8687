/* Errors on the pages (see arrears/core/pages.py and templates/_error.html).
 *
 * 1. A fragment the server marks as an error (header X-Arrears-Error) is swapped in although its
 *    status is 4xx: htmx leaves error responses out by default, and the person would see nothing.
 * 2. Any other failed htmx request (an unexpected 4xx/5xx, no connection) shows a message in the
 *    page's language at the top of the page (#page-error), instead of failing silently.
 * 3. The input an error names (data-error-field) is highlighted and focused.
 */
(function () {
  "use strict";
  function highlight(root) {
    (root || document).querySelectorAll("[data-error-field]").forEach(function (box) {
      var name = box.getAttribute("data-error-field");
      var scope = box.closest("form, section, main") || document;
      var inputs = scope.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      if (!inputs.length) inputs = document.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      inputs.forEach(function (input, i) {
        input.classList.add("field-error");
        input.setAttribute("aria-invalid", "true");
        if (i === 0 && typeof input.focus === "function") input.focus({preventScroll: false});
      });
    });
  }
  function pageError(text) {
    var box = document.getElementById("page-error");
    if (!box) return;
    box.querySelector("p").textContent = text;
    box.hidden = false;
  }
  function messageFor(status) {
    var box = document.getElementById("page-error");
    if (!box) return "";
    if (status === 403) return box.dataset.forbidden;
    if (status === 404) return box.dataset.notFound;
    if (status === 0) return box.dataset.offline;
    return box.dataset.failed;
  }
  document.addEventListener("DOMContentLoaded", function () { highlight(document); });
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("X-Arrears-Error")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (evt) { highlight(evt.detail.elt); });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("page-error");
    if (box) box.hidden = true;
  });
  document.addEventListener("htmx:responseError", function (evt) {
    pageError(messageFor(evt.detail.xhr ? evt.detail.xhr.status : 0));
  });
  document.addEventListener("htmx:sendError", function () { pageError(messageFor(0)); });
})();
