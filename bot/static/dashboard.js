// Small helpers for the case, broadcast and poll pages: a live SMS segment count and saved answers. The page works without them.
(function () {
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "^{}\\[~]|€\f";
  function segments(text) {
    var gsm = true, units = 0, i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (GSM.indexOf(ch) >= 0) { units += 1; } else if (EXT.indexOf(ch) >= 0) { units += 2; } else { gsm = false; }
    }
    if (!text.length) { return [0, 0]; }
    if (gsm) { return [units <= 160 ? 1 : Math.ceil(units / 153), units]; }
    units = text.length;  // UTF-16 code units, as SMS counts them
    return [units <= 70 ? 1 : Math.ceil(units / 67), units];
  }
  var lang = document.documentElement.lang;
  function digits(n) {  // the page's digits: Arabic-Indic in Arabic and Sorani, as the server writes numbers
    var s = String(n);
    return (lang === "ar" || lang === "ckb") ? s.replace(/[0-9]/g, function (d) { return "٠١٢٣٤٥٦٧٨٩".charAt(+d); }) : s;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-segments]").forEach(function (area) {
      var out = document.getElementById(area.getAttribute("data-segments"));
      var label = out.getAttribute("data-label") || "SMS";
      // A poll question counts as the phone receives it (handlers/polls.py render_question): "(١/٢) " before
      // the text when there are several questions, a line per option "١. label", how to answer, and under
      // question 1 how to stop (the lines come from the server in each language: data-reply-*, data-footer)
      var options = document.getElementById(area.getAttribute("data-segments-options") || "");
      var cell = area.closest("[data-reply-choice]"), question = area.closest("[data-question]");
      function filled(box) {
        return Array.prototype.some.call(box.querySelectorAll("textarea"), function (t) { return t.value.trim(); });
      }
      function sent() {
        var text = area.value.trim();
        if (!options || !cell || !question) { return area.value; }
        var rtl = area.getAttribute("dir") === "rtl", n = 0;
        function local(k) { return rtl ? String(k).replace(/[0-9]/g, function (d) { return "٠١٢٣٤٥٦٧٨٩".charAt(+d); }) : String(k); }
        var all = Array.prototype.filter.call(document.querySelectorAll("[data-question]"), filled);
        var free = question.querySelector("select").value === "free";
        if (!text && (free || !options.value.trim())) { return ""; }
        var lines = [all.length > 1 ? "(" + local(all.indexOf(question) + 1) + "/" + local(all.length) + ") " + text : text];
        if (!free) {
          options.value.split("\n").forEach(function (line) {
            if (line.trim()) { n += 1; lines.push(local(n) + ". " + line.trim()); }
          });
        }
        lines.push(cell.getAttribute(free ? "data-reply-free" : "data-reply-choice"));
        if (all.indexOf(question) === 0) { lines.push(cell.getAttribute("data-footer")); }
        return lines.join("\n");
      }
      function update() {
        var s = segments(sent());
        out.textContent = label + ": " + digits(s[1]) + " / " + digits(s[0]) + (s[0] > 3 ? " ⚠" : "");
        out.setAttribute("data-segments", s[0]);
      }
      area.addEventListener("input", update);
      if (options && question) {      // any question's words change the numbering "(١/٢)": follow the whole form
        question.form.addEventListener("input", update);
        question.form.addEventListener("change", update);
      }
      update();
    });
    document.querySelectorAll("select[data-template-target]").forEach(function (select) {
      select.addEventListener("change", function () {
        var target = document.getElementById(select.getAttribute("data-template-target"));
        if (select.value) { target.value = select.value; target.dispatchEvent(new Event("input")); }
      });
    });
  });
})();
// Broadcast page: the progress bar follows the sending without reloading (every 2 seconds).
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector(".progress[data-progress-url]");
    if (!box || box.getAttribute("data-live") !== "1" || !window.fetch) { return; }
    var lang = document.documentElement.lang;
    function digits(n) {
      var s = String(n);
      return (lang === "ar" || lang === "ckb") ? s.replace(/[0-9]/g, function (d) { return "٠١٢٣٤٥٦٧٨٩".charAt(+d); }) : s;
    }
    function poll() {
      fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (p) {
          box.value = p.percent;
          box.textContent = digits(p.percent) + "%";
          box.setAttribute("aria-valuenow", p.percent);
          document.querySelectorAll("[data-count]").forEach(function (el) {
            var key = el.getAttribute("data-count");
            if (key in p) { el.textContent = digits(p[key]); }
          });
          if (p.status === "sending" || p.status === "scheduled") { setTimeout(poll, 2000); }
          else { window.location.reload(); }
        }).catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  });
})();
