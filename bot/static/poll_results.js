// Poll results page: while the poll runs, the results follow the answers without reloading the page.
// Every 3 seconds it asks the server (JSON, same origin) whether the results changed since the stamp it
// holds; when they did it puts the server-drawn section (tables and SVG charts, no script) in place.
// The page works without this file: the results are then as of the last load.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-results-url]");
    if (!box || box.getAttribute("data-live") !== "1" || !window.fetch) { return; }
    var stamp = box.getAttribute("data-stamp");
    function poll() {
      var url = box.getAttribute("data-results-url") + "?stamp=" + encodeURIComponent(stamp || "");
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          if (!data.unchanged && data.stamp !== stamp) {
            stamp = data.stamp;
            box.innerHTML = data.html;
            box.setAttribute("data-stamp", stamp);
          }
          if (data.live) { setTimeout(poll, 3000); } else { box.setAttribute("data-live", "0"); }
        }).catch(function () { setTimeout(poll, 10000); });
    }
    setTimeout(poll, 3000);
  });
})();
