// The change request form: a pause or a termination releases every line, so the "after" inputs
// of seat and bundle lines give way to a plain statement. The form works without this script.
(function () {
  "use strict";

  var form = document.querySelector("[data-change-form]");
  if (!form) return;

  function update() {
    var checked = form.querySelector('input[name="intent"]:checked');
    var releasesAll = Boolean(checked) && (checked.value === "pause" || checked.value === "terminate");
    form.classList.toggle("releases-all", releasesAll);
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "intent") update();
  });
  update();
})();
