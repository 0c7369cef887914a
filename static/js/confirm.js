// A form with data-confirm asks before it submits: the text states what the action does. A
// submit button may carry its own data-confirm (one form, several actions: only the dangerous
// ones ask). Loaded once by base.html; a page that loads it again binds nothing twice.
(function () {
  if (window.licenseDeskConfirm) {
    return;
  }
  window.licenseDeskConfirm = true;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) ||
      (form.getAttribute && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();
