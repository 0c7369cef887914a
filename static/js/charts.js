// Draws every <canvas data-chart="ID"> with Chart.js from the JSON in <script id="ID"
// type="application/json"> (Django's json_script), so pages carry data, never inline code (CSP).
// The JSON is a Chart.js config: {"type": "bar", "data": {...}, "options": {...}}.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var config = JSON.parse(source.textContent);
    config.options = Object.assign({responsive: true, maintainAspectRatio: false, animation: false},
                                   config.options || {});
    new Chart(canvas, config);
  });
});
