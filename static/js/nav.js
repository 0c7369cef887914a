// On a narrow screen the main navigation folds behind a Menu button. Without this script the
// navigation simply stays open, so every link is always reachable.
document.addEventListener("DOMContentLoaded", function () {
  var bar = document.querySelector(".topbar");
  var toggle = bar && bar.querySelector(".nav-toggle");
  if (!toggle) {
    return;
  }
  bar.classList.add("nav-collapsible");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = bar.classList.toggle("nav-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
});
