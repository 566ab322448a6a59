// Live progress on the dashboard: polls the page's data-live JSON (same origin, session
// cookie) every few seconds and updates the figures in place. No build step.
(function () {
  "use strict";
  var PERIOD = 3000;

  function eta(seconds) {
    if (seconds === null || seconds === undefined) { return "no estimate yet"; }
    if (seconds <= 0) { return "done"; }
    if (seconds < 90) { return "about " + Math.round(seconds) + " s"; }
    if (seconds < 5400) { return "about " + Math.round(seconds / 60) + " min"; }
    return "about " + (seconds / 3600).toFixed(1) + " h";
  }

  function set(root, selector, text) {
    var node = root.querySelector(selector);
    if (node) { node.textContent = text; }
  }

  function showPool(root, p) {
    var percent = (p.ratio * 100);
    set(root, "#collected", String(p.collected));
    set(root, "#needed", String(p.needed));
    set(root, "#ratio", percent.toFixed(0) + "%");
    set(root, "#eta", eta(p.eta_seconds));
    set(root, "#tasks-complete", String(p.tasks_complete));
    set(root, "#active-suites", String(p.active_suites));
    set(root, "#rate", p.rate_per_minute ? p.rate_per_minute.toFixed(1) + " answers/min" : "");
    var fill = root.querySelector("#progress-fill");
    if (fill) { fill.style.width = percent.toFixed(1) + "%"; }
  }

  function showPools(root, data) {
    data.pools.forEach(function (p) {
      var row = root.querySelector('tr[data-pool-id="' + p.pool_id + '"]');
      if (!row) { return; }
      set(row, ".collected", String(p.collected));
      set(row, ".needed", String(p.needed));
      set(row, ".ratio", (p.ratio * 100).toFixed(0) + "%");
      set(row, ".status", p.status);
      var fill = row.querySelector(".fill");
      if (fill) { fill.style.width = (p.ratio * 100).toFixed(1) + "%"; }
      var cell = row.querySelector(".eta");
      if (cell && cell.textContent.trim() !== "") { cell.textContent = eta(p.eta_seconds); }
    });
  }

  var root = document.querySelector("[data-live]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-live");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) {
          if (data.pools) { showPools(root, data); } else { showPool(root, data); }
          root.setAttribute("data-updated", String(Date.now()));
        }
      })
      .catch(function () { /* offline for a moment: try again next tick */ })
      .then(function () { setTimeout(poll, PERIOD); });
  }
  setTimeout(poll, PERIOD);
})();
