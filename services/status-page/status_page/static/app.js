// Progressive enhancement only: the page works without it.
(function () {
  "use strict";
  var root = document.documentElement;
  var KEY = "openstatus-scheme";
  var order = ["system", "light", "dark"];
  if (!root.hasAttribute("data-forced")) {
    try {
      var saved = localStorage.getItem(KEY);
      if (saved && order.indexOf(saved) >= 0) root.setAttribute("data-scheme", saved);
    } catch (e) { /* storage may be blocked in iframes */ }
  }
  function label(button) {
    var scheme = root.getAttribute("data-scheme") || "system";
    var text = button.getAttribute("data-label-" + scheme) || scheme;
    button.setAttribute("aria-label", button.getAttribute("title") + ": " + text);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      label(button);
      button.addEventListener("click", function () {
        var current = root.getAttribute("data-scheme") || "system";
        // From "system", the first click always changes what the visitor sees: to the scheme they do not have.
        var prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
        var cycle = prefersDark ? ["system", "light", "dark"] : ["system", "dark", "light"];
        var next = cycle[(cycle.indexOf(current) + 1) % cycle.length];
        root.setAttribute("data-scheme", next);
        try { localStorage.setItem(KEY, next); } catch (e) { /* ignore */ }
        label(button);
      });
    });
    // Escape dismisses whatever tracker card shows, by hover or focus, without moving focus (WCAG 1.4.13).
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll("[data-tracker]").forEach(function (t) { t.classList.add("cards-hidden"); });
    });
    // Trackers: one tab stop each; arrow keys, Home and End move between the visible days (roving tabindex).
    document.querySelectorAll("[data-tracker]").forEach(function (tracker) {
      var bars = Array.prototype.slice.call(tracker.querySelectorAll(".bar"));
      tracker.addEventListener("focusin", function (event) {
        var bar = event.target.closest ? event.target.closest(".bar") : null;
        if (!bar) return;
        tracker.classList.remove("cards-hidden");
        bars.forEach(function (b) { b.tabIndex = b === bar ? 0 : -1; });
      });
      // Escape hides the day's card without moving focus (it may cover the next row); the next day shows it.
      tracker.addEventListener("mouseover", function () { tracker.classList.remove("cards-hidden"); });
      tracker.addEventListener("keydown", function (event) {
        var shown = bars.filter(function (b) { return b.getClientRects().length > 0; });
        var index = shown.indexOf(document.activeElement);
        if (index < 0) return;
        var next = index;
        if (event.key === "ArrowLeft") next = Math.max(0, index - 1);
        else if (event.key === "ArrowRight") next = Math.min(shown.length - 1, index + 1);
        else if (event.key === "Home") next = 0;
        else if (event.key === "End") next = shown.length - 1;
        else return;
        event.preventDefault();
        shown[next].focus();
      });
    });
  });
})();
