// A form with data-confirm asks before it submits: the text states what the action does.
// A submit button may carry its own data-confirm, so one form can hold a harmless button
// (a preview) beside the one that acts, or several actions of which only the dangerous ask.
// Loaded once by base.html; a page that loads it again binds nothing twice.
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
