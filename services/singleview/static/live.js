// Live updates for the person page: when the server says this person changed, fetch the page
// again and swap its content in place (no reload, focus and scroll position kept).
(function () {
  "use strict";
  var root = document.getElementById("person");
  if (!root || !window.EventSource) { return; }
  var id = root.getAttribute("data-person");
  var source = new EventSource("/people/" + encodeURIComponent(id) + "/live");
  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("person");
        var current = document.getElementById("person");
        if (fresh && current) {
          current.innerHTML = fresh.innerHTML;
          current.setAttribute("data-updated", String(Date.now()));
        }
      })
      .finally(function () { busy = false; });
  }
  source.addEventListener("changed", refresh);
})();
