// clonus staff console: small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Ask before destructive actions (forms marked data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  // Filter selects apply at once.
  var filters = document.getElementById("filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { filters.submit(); });
    });
  }
  // Live alerts: new emergency and urgent decisions, pushed by the server (server-sent events).
  var banner = document.getElementById("alerts");
  if (banner && window.EventSource) {
    startAlerts(banner);
  }
});

function startAlerts(banner) {
  var ackUrl = banner.getAttribute("data-ack");
  var csrf = banner.getAttribute("data-csrf");
  function render(alerts) {
    while (banner.firstChild) { banner.removeChild(banner.firstChild); }
    alerts.forEach(function (a) {
      var item = document.createElement("div");
      item.className = "alert-item lvl-" + a.level;
      item.setAttribute("role", "alert");
      item.setAttribute("data-alert-id", String(a.id));
      var level = document.createElement("strong");
      level.textContent = a.level === "emergency" ? "EMERGENCY" : "URGENT";
      item.appendChild(level);
      var what = document.createElement(a.ref ? "a" : "span");
      if (a.ref) { what.href = "/conversations/" + encodeURIComponent(a.ref); }
      what.textContent = "conversation " + a.conversation;
      item.appendChild(what);
      var when = document.createElement("span");
      when.textContent = a.at + (a.rules.length ? " · " + a.rules.join(", ") : "");
      item.appendChild(when);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "alert-ack";
      button.textContent = "Acknowledge";
      button.addEventListener("click", function () {
        button.disabled = true;
        var body = new URLSearchParams();
        body.set("csrf_token", csrf);
        body.set("alert_id", String(a.id));
        fetch(ackUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "Accept": "application/json" }
        }).then(function (resp) {
          if (resp.ok) {
            item.remove();
            banner.hidden = !banner.firstChild;
          } else {
            button.disabled = false;
          }
        }, function () { button.disabled = false; });
      });
      item.appendChild(button);
      banner.appendChild(item);
    });
    banner.hidden = alerts.length === 0;
  }
  var source = new EventSource(banner.getAttribute("data-stream"));
  source.addEventListener("alerts", function (event) {
    try {
      render(JSON.parse(event.data).alerts || []);
    } catch (e) {
      banner.hidden = true;
    }
  });
}
