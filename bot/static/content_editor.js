// Content editor: live counters under each field, as the provider counts an SMS (no network, no library).
// Mirrors handlers/sms.py: GSM-7 is 160 characters in one part and 153 a part after (an extension character
// such as € [ ] counts 2); any other character makes the whole SMS UCS-2: 70 in one part, 67 a part after,
// counted in UTF-16 code units. {emergency} is counted as the numbers it becomes; Latin Kurmanji as sent
// in plain letters when the server folds it (data-fold). An SMS may take data-parts parts (two for Arabic
// script, handlers/content.py SMS_PARTS). The page works without this file.
(function () {
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "^{}\\[~]|€\f";
  var FOLD = {"ê": "e", "î": "i", "û": "u", "ş": "s", "ç": "c", "Ê": "E", "Î": "I", "Û": "U", "Ş": "S"};

  function sms(text) {
    var gsm = true, units = 0, i, ch, parts;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (GSM.indexOf(ch) >= 0) { units += 1; } else if (EXT.indexOf(ch) >= 0) { units += 2; } else { gsm = false; break; }
    }
    if (!gsm) { units = text.length; }           // JavaScript strings are UTF-16: an emoji is 2, as in an SMS
    if (!text.length) { parts = 0; }
    else if (gsm) { parts = units <= 160 ? 1 : Math.ceil(units / 153); }
    else { parts = units <= 70 ? 1 : Math.ceil(units / 67); }
    return {encoding: gsm ? "GSM-7" : "UCS-2", units: units, parts: parts, target: gsm ? 306 : 134};
  }

  var lang = document.documentElement.lang;
  function digits(n) {  // the page's digits: Arabic-Indic in Arabic and Sorani, as the server writes numbers
    var s = String(n);
    return (lang === "ar" || lang === "ckb") ? s.replace(/[0-9]/g, function (d) { return "٠١٢٣٤٥٦٧٨٩".charAt(+d); }) : s;
  }
  function fill(format, values) {
    return format.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? (typeof values[name] === "number" ? digits(values[name]) : values[name]) : all;
    });
  }

  function counter(field) {
    var out = document.getElementById(field.getAttribute("data-counter"));
    var kind = field.getAttribute("data-count");
    if (!out || !kind) { return; }
    var limit = parseInt(field.getAttribute("data-limit"), 10) || 0;
    function update() {
      var text = field.value, values = {characters: text.length, limit: limit}, over = limit && text.length > limit;
      if (kind === "sms") {
        text = text.split("{emergency}").join(field.getAttribute("data-expand") || "");
        if (field.getAttribute("data-fold") === "1") { text = text.replace(/[êîûşçÊÎÛŞ]/g, function (c) { return FOLD[c]; }); }
        var s = sms(text), most = parseInt(field.getAttribute("data-parts"), 10) || 3;
        values = {characters: text.length, limit: limit, encoding: s.encoding, parts: s.parts, most: most, target: s.target};
        over = text.length > limit || s.parts > most;
        out.setAttribute("data-parts", s.parts);
        out.setAttribute("data-encoding", s.encoding);
      } else if (kind === "text") {
        values.telegram = parseInt(out.getAttribute("data-telegram"), 10);
        values.whatsapp = parseInt(out.getAttribute("data-whatsapp"), 10);
      }
      out.textContent = fill(out.getAttribute("data-format"), values);
      out.classList.toggle("over", !!over);
    }
    field.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-count][data-counter]").forEach(counter);
    // a picture over 5 MB is refused by the server too; saying so here saves a long upload on a slow link
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      input.addEventListener("change", function () {
        var max = parseInt(input.getAttribute("data-max-bytes"), 10);
        input.setCustomValidity(input.files.length && input.files[0].size > max ? input.getAttribute("data-too-big") : "");
        input.reportValidity();
      });
    });
  });
})();
