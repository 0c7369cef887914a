// A form with data-confirm asks before it submits: the text states what the action does.
// A submit button may carry its own data-confirm, so one form can hold a harmless button
// (a preview) beside the one that acts.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) ||
    (form.getAttribute && form.getAttribute("data-confirm"));
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
