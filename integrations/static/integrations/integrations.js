// The Integrations pages work without this file; it adds copy buttons and puts focus on a form's first error.
(function () {
  "use strict";
  if (window.integrationsLoaded) { return; }  // a host page may load it as well
  window.integrationsLoaded = true;
  function announce(text) {
    var region = document.getElementById("integrations-announce");
    if (region) { region.textContent = ""; window.setTimeout(function () { region.textContent = text; }, 50); }
  }
  function setUp(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (button.dataset.copyReady) { return; }
      button.dataset.copyReady = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.querySelector(button.dataset.copy);
        if (!target) { return; }
        var text = target.value !== undefined && target.tagName === "INPUT" ? target.value : target.textContent.trim();
        var label = button.dataset.label || button.textContent;
        button.dataset.label = label;
        var done = function () {
          // Seen where the click was, and heard by screen readers; the label comes back after a moment.
          announce("Copied"); button.dataset.copied = "1"; button.textContent = "Copied ✓";
          window.setTimeout(function () { button.textContent = label; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { announce("Copy failed: select and copy it by hand"); });
        } else {
          // Plain HTTP (a development server): the older way, through a selection.
          var field = document.createElement("textarea");
          field.value = text; field.setAttribute("readonly", ""); field.style.position = "fixed"; field.style.opacity = "0";
          document.body.appendChild(field); field.select();
          try { document.execCommand("copy"); done(); } catch (error) { announce("Copy failed: select and copy it by hand"); }
          document.body.removeChild(field);
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target); });
})();
