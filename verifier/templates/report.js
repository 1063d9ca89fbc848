// seccheck report: filter box and class toggles for the matrix, path
// highlighting for findings. Errors are recorded in the DOM so that a headless
// browser test can assert there were none.
(function () {
  var body = document.body;
  body.setAttribute("data-js-errors", "0");
  window.addEventListener("error", function (e) {
    var n = parseInt(body.getAttribute("data-js-errors"), 10) + 1;
    body.setAttribute("data-js-errors", String(n));
    var log = document.getElementById("js-errors");
    if (log) { log.textContent += (e.message || "error") + "\n"; log.hidden = false; }
  });
  var table = document.getElementById("matrix-table");
  if (table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr.sc"));
    var box = document.getElementById("matrix-filter");
    var shown = document.getElementById("matrix-shown");
    var buttons = Array.prototype.slice.call(document.querySelectorAll("#matrix-controls button[data-class]"));
    var apply = function () {
      var q = box.value.trim().toLowerCase();
      var on = {};
      buttons.forEach(function (b) { on[b.getAttribute("data-class")] = b.getAttribute("aria-pressed") === "true"; });
      var n = 0;
      rows.forEach(function (r) {
        var text = q === "" || r.getAttribute("data-name").indexOf(q) >= 0 || r.getAttribute("data-nrs").split(" ").indexOf(q) >= 0;
        var cls = r.getAttribute("data-classes").split(" ").some(function (c) { return on[c]; });
        var show = text && cls;
        r.classList.toggle("hidden", !show);
        if (show) { n += 1; }
      });
      shown.textContent = String(n);
    };
    box.addEventListener("input", apply);
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
        apply();
      });
    });
    // report.html?q=openat opens the page filtered (links in reviews, tests);
    var m = /[?&]q=([^&#]*)/.exec(window.location.search);
    if (m) { box.value = decodeURIComponent(m[1].replace(/\+/g, " ")); }
    // ?only=conditional,delegated presses only those class buttons.
    var only = /[?&]only=([^&#]*)/.exec(window.location.search);
    if (only) {
      var keep = decodeURIComponent(only[1]).split(",");
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", keep.indexOf(b.getAttribute("data-class")) >= 0 ? "true" : "false"); });
    }
    apply();
    body.setAttribute("data-matrix-rows", String(rows.length));
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.showpath"), function (b) {
    b.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll("tr.onpath"), function (r) { r.classList.remove("onpath"); });
      var path = b.getAttribute("data-path").split(" ");
      path.forEach(function (i) {
        var r = document.getElementById("i" + i);
        if (r) { r.classList.add("onpath"); }
      });
      var first = document.getElementById("i" + path[path.length - 1]);
      if (first) { first.scrollIntoView({ block: "center" }); }
    });
  });
  body.setAttribute("data-ready", "1");
})();
