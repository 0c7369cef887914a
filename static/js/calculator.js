// The credit calculator: a form over POST /api/v1/credits/calculator/.
// The API does every calculation and every check; this script only builds the JSON, sends it
// with the session's CSRF token, and shows the answer or the API's errors beside their fields.
// Data from the API is written with textContent only, never as HTML.
(function () {
  "use strict";

  var form = document.getElementById("calculator");
  if (!form) return;
  var example = JSON.parse(document.getElementById("calculator-example").textContent);
  var lineTemplate = document.getElementById("calc-line-template");
  var componentTemplate = document.getElementById("calc-component-template");
  var lineList = form.querySelector("[data-line-list]");
  var result = document.querySelector("[data-result]");
  var TOP_FIELDS = ["currency", "intent", "period_start", "period_end", "effective_date",
    "resume_date"];
  var INTEGER_FIELDS = ["quantity_before", "quantity_after", "included_units", "units_used"];

  // Building the form

  function setValue(root, name, value) {
    var input = root.querySelector('[data-name="' + name + '"]');
    if (input) input.value = value === undefined || value === null ? "" : String(value);
  }

  function addComponent(lineEl, component) {
    var el = componentTemplate.content.firstElementChild.cloneNode(true);
    component = component || {};
    ["id", "standalone_price", "quantity_before", "quantity_after"].forEach(function (name) {
      setValue(el, name, component[name]);
    });
    lineEl.querySelector("[data-component-list]").appendChild(el);
    applyIntent();
    return el;
  }

  function addLine(line) {
    var el = lineTemplate.content.firstElementChild.cloneNode(true);
    line = line || { id: "line-" + (lineList.children.length + 1), basis: "seat" };
    ["id", "basis", "amount_paid", "quantity_before", "quantity_after", "included_units",
      "units_used"].forEach(function (name) { setValue(el, name, line[name]); });
    lineList.appendChild(el);
    (line.components || []).forEach(function (c) { addComponent(el, c); });
    if (line.basis === "bundle" && !(line.components || []).length) {
      addComponent(el);
      addComponent(el);
    }
    applyBasis(el);
    renumber();
    return el;
  }

  function renumber() {
    var lines = lineList.querySelectorAll(".calc-line");
    lines.forEach(function (el, index) {
      el.querySelector("[data-line-number]").textContent = String(index + 1);
      // One line must remain: the API needs at least one.
      el.querySelector("[data-remove-line]").hidden = lines.length === 1;
    });
  }

  function applyBasis(lineEl) {
    var basis = lineEl.querySelector('[data-name="basis"]').value;
    lineEl.querySelectorAll("[data-basis-only]").forEach(function (el) {
      el.hidden = el.getAttribute("data-basis-only") !== basis;
    });
    if (basis === "bundle" && !lineEl.querySelector(".calc-component")) addComponent(lineEl);
  }

  function applyIntent() {
    // A termination releases everything and a pause stops the whole line until its resume
    // date: "after" is not asked for; only a pause asks for the resume date.
    var intent = form.elements.intent.value;
    var whole = intent === "terminate" || intent === "pause";
    form.querySelectorAll("[data-after]").forEach(function (input) {
      input.disabled = whole;
      input.placeholder = intent === "terminate" ? "0" : whole ? "all" : "";
    });
    form.querySelectorAll("[data-pause-only]").forEach(function (el) {
      el.hidden = intent !== "pause";
    });
    form.elements.resume_date.disabled = intent !== "pause";
  }

  function load(data) {
    TOP_FIELDS.forEach(function (name) { form.elements[name].value = data[name] || ""; });
    lineList.textContent = "";
    data.lines.forEach(addLine);
    applyIntent();
    clearErrors();
  }

  // The request

  function put(target, name, raw) {
    var value = (raw || "").trim();
    if (value === "") return; // omitted: the API says when a field is required
    target[name] = INTEGER_FIELDS.indexOf(name) >= 0 && /^\d{1,15}$/.test(value) ? Number(value) : value;
  }

  function fieldValue(root, name) {
    var input = root.querySelector('[data-name="' + name + '"]');
    return input && !input.disabled ? input.value : "";
  }

  function payload() {
    var data = { lines: [] };
    TOP_FIELDS.forEach(function (name) {
      if (!form.elements[name].disabled) put(data, name, form.elements[name].value);
    });
    lineList.querySelectorAll(".calc-line").forEach(function (lineEl) {
      var basis = lineEl.querySelector('[data-name="basis"]').value;
      var line = {};
      put(line, "id", fieldValue(lineEl, "id"));
      line.basis = basis;
      put(line, "amount_paid", fieldValue(lineEl, "amount_paid"));
      if (basis === "seat") {
        put(line, "quantity_before", fieldValue(lineEl, "quantity_before"));
        put(line, "quantity_after", fieldValue(lineEl, "quantity_after"));
      } else if (basis === "usage") {
        put(line, "included_units", fieldValue(lineEl, "included_units"));
        put(line, "units_used", fieldValue(lineEl, "units_used"));
      } else {
        line.components = [];
        lineEl.querySelectorAll(".calc-component").forEach(function (compEl) {
          var component = {};
          ["id", "standalone_price", "quantity_before", "quantity_after"].forEach(function (name) {
            put(component, name, fieldValue(compEl, name));
          });
          line.components.push(component);
        });
      }
      data.lines.push(line);
    });
    return data;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function calculate() {
    clearErrors();
    result.setAttribute("aria-busy", "true");
    return fetch(form.getAttribute("data-api-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify(payload())
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          showResult(body);
        } else if (response.status === 400) {
          showErrors(body);
        } else if (response.status === 401 || response.status === 403) {
          showMessage("Your session has ended or does not allow this. Sign in again and retry.");
        } else {
          showMessage(body.detail || "The calculator could not answer (HTTP " + response.status + "). Try again.");
        }
      });
    }).catch(function () {
      showMessage("The calculator could not be reached. Check your connection and try again.");
    }).then(function () {
      result.removeAttribute("aria-busy");
    });
  }

  // The answer

  function money(amount, currency) {
    var parts = String(amount).split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return currency + " " + whole + (parts.length > 1 ? "." + parts[1] : "");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function resultItem(item, currency, isComponent) {
    var li = el("li", isComponent ? "result-component" : "result-line");
    var head = el("div", "result-head");
    head.appendChild(el("span", "mono", (isComponent ? "↳ " : "") + item.id));
    head.appendChild(el("span", "result-credit", money(item.credit, currency)));
    li.appendChild(head);
    li.appendChild(el("p", "result-explanation", item.explanation));
    if (item.components && item.components.length) {
      var sub = el("ul", "result-components");
      item.components.forEach(function (c) { sub.appendChild(resultItem(c, currency, true)); });
      li.appendChild(sub);
    }
    return li;
  }

  function showResult(body) {
    result.textContent = "";
    var total = el("div", "result-total");
    total.appendChild(el("span", null, "Total credit"));
    total.appendChild(el("strong", null, money(body.total_credit, body.currency)));
    result.appendChild(total);
    var list = el("ul", "result-lines");
    body.lines.forEach(function (line) { list.appendChild(resultItem(line, body.currency, false)); });
    result.appendChild(list);
    (body.notes || []).forEach(function (note) { result.appendChild(el("p", "note", note)); });
    result.appendChild(el("p", "note", "Calculated under credit policy " + body.policy_version +
      ". Each line is rounded to the currency's smallest unit; the total is the sum of the lines."));
  }

  function showMessage(text) {
    result.textContent = "";
    result.appendChild(el("p", "form-errors", text));
  }

  // Errors beside their fields

  function messages(value) {
    if (typeof value === "string") return [value];
    var values = Array.isArray(value) ? value : isObject(value) ? Object.keys(value).map(function (k) { return value[k]; }) : [];
    return values.reduce(function (all, v) { return all.concat(messages(v)); }, []);
  }

  function setError(container, messagesList) {
    if (!container || !messagesList.length) return false;
    container.textContent = messagesList.join(" ");
    var field = container.parentElement.querySelector("input, select");
    if (field) field.setAttribute("aria-invalid", "true");
    return true;
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (e) { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    var summary = form.querySelector('[data-error="__all__"]');
    summary.textContent = "";
    summary.hidden = true;
  }

  function showErrors(body) {
    var unplaced = [];
    var lines = lineList.querySelectorAll(".calc-line");
    Object.keys(body).forEach(function (key) {
      var perLine = key === "lines" ? byIndex(body.lines) : [];
      if (perLine.length) {
        perLine.forEach(function (entry) {
          placeLineErrors(lines[entry.index], entry.errors, entry.index, unplaced);
        });
        return;
      }
      var target = form.querySelector('[data-error="' + key + '"]');
      if (!setError(target, messages(body[key]))) unplaced = unplaced.concat(messages(body[key]));
    });
    var summary = form.querySelector('[data-error="__all__"]');
    summary.textContent = "Some fields need attention; each says what is wrong." +
      (unplaced.length ? " " + unplaced.join(" ") : "");
    summary.hidden = false;
    result.textContent = "";
    result.appendChild(el("p", "muted", "Correct the fields marked in the form, then calculate again."));
    var first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // Errors inside a list come by index: as an array of objects, or as an object whose keys
  // are the indexes ({"0": {...}}), depending on the DRF version. Both read the same here.
  function byIndex(value) {
    var entries = [];
    if (Array.isArray(value)) {
      value.forEach(function (errors, index) {
        if (isObject(errors) && Object.keys(errors).length) entries.push({ index: index, errors: errors });
      });
    } else if (isObject(value)) {
      Object.keys(value).forEach(function (key) {
        if (/^\d+$/.test(key) && isObject(value[key])) entries.push({ index: Number(key), errors: value[key] });
      });
    }
    return entries;
  }

  function placeLineErrors(lineEl, errors, index, unplaced) {
    Object.keys(errors).forEach(function (key) {
      var value = errors[key];
      var perComponent = key === "components" ? byIndex(value) : [];
      if (perComponent.length) {
        var components = lineEl ? lineEl.querySelectorAll(".calc-component") : [];
        perComponent.forEach(function (entry) {
          var j = entry.index;
          var componentErrors = entry.errors;
          Object.keys(componentErrors).forEach(function (name) {
            var target = components[j] && components[j].querySelector('[data-component-error="' + name + '"]');
            if (!setError(target, messages(componentErrors[name]))) {
              unplaced.push("Line " + (index + 1) + ", product " + (j + 1) + ": " + messages(componentErrors[name]).join(" "));
            }
          });
        });
        return;
      }
      var target = lineEl && lineEl.querySelector('[data-line-error="' + key + '"]');
      if (target && target.closest("[hidden]")) target = null; // e.g. a field of another kind
      if (!setError(target, messages(value))) {
        unplaced.push("Line " + (index + 1) + ": " + messages(value).join(" "));
      }
    });
  }

  // Wiring

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-add-line")) {
      addLine().querySelector('[data-name="amount_paid"]').focus();
    } else if (button.hasAttribute("data-remove-line")) {
      button.closest(".calc-line").remove();
      renumber();
    } else if (button.hasAttribute("data-add-component")) {
      addComponent(button.closest(".calc-line")).querySelector('[data-name="id"]').focus();
    } else if (button.hasAttribute("data-remove-component")) {
      var list = button.closest("[data-component-list]");
      if (list.children.length > 1) button.closest(".calc-component").remove();
    } else if (button.hasAttribute("data-reset")) {
      load(example);
      calculate();
    }
  });

  form.addEventListener("change", function (event) {
    if (event.target.getAttribute("data-name") === "basis") applyBasis(event.target.closest(".calc-line"));
    if (event.target.name === "intent") applyIntent();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    calculate();
  });

  load(example);
  calculate();
})();
