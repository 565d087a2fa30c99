// paybridge console: refreshes the numbers of the Flows page every 2 s. Every page works
// without it; it only replaces the text of elements marked data-number="…".
(function () {
  "use strict";
  var marked = document.querySelectorAll("[data-number]");
  if (marked.length === 0) { return; }
  function refresh() {
    fetch("/console/api/flows", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (flows) {
        if (!flows || !flows.numbers) { return; }
        marked.forEach(function (element) {
          var value = flows.numbers[element.getAttribute("data-number")];
          if (value !== undefined) { element.textContent = String(value); }
        });
      })
      .catch(function () { /* the next tick tries again */ });
  }
  setInterval(refresh, 2000);
})();

// The mapping designer (/console/mapping/designer). Every change there is also a plain form
// POST; this adds dragging a source chip onto a target with POINTER events (hit-tested with
// elementFromPoint: WebDriver cannot fire HTML5 drag events in Chromium), the keyboard way
// (press a chip to pick it up, then a target), and the live preview from /console/api/preview.
(function () {
  "use strict";
  var form = document.getElementById("designer");
  if (!form) { return; }
  var live = document.getElementById("designer-live");
  var panel = document.getElementById("designer-preview");
  var csrf = form.elements.namedItem("csrf").value;
  var picked = null;
  var drag = null;

  function say(text) { live.textContent = text; }

  function unpick() {
    form.querySelectorAll("[data-source][aria-pressed='true']").forEach(function (chip) {
      chip.setAttribute("aria-pressed", "false");
    });
    picked = null;
  }

  function place(source, target) {
    var key = form.elements.namedItem("key");
    if (target === "metadata:new" && key.value.trim() === "") {
      say("Name the new metadata key first, then place " + source + " again.");
      key.focus();
      return;
    }
    form.elements.namedItem("source").value = source;
    form.elements.namedItem("target").value = target;
    say(source + " placed on " + (target === "metadata:new" ? "metadata[" + key.value.trim() + "]" : target) + ": mapping…");
    var button = document.getElementById("designer-map");
    if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
  }

  form.querySelectorAll("[data-source]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      if (drag && drag.moved) { return; }
      var source = chip.getAttribute("data-source");
      var again = picked === source;
      unpick();
      if (again) { say("Put " + source + " down."); return; }
      picked = source;
      chip.setAttribute("aria-pressed", "true");
      say("Picked up " + source + ". Press a target to place it, or press it again to put it down.");
    });
    chip.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      drag = { chip: chip, x: event.clientX, y: event.clientY, moved: false, ghost: null, over: null };
    });
  });

  form.querySelectorAll("[data-target]").forEach(function (target) {
    target.addEventListener("click", function () {
      if (picked === null) { say("Pick a source field first (press a chip), then this target."); return; }
      var source = picked;
      unpick();
      place(source, target.getAttribute("data-target"));
    });
  });

  function targetAt(x, y) {
    var element = document.elementFromPoint(x, y);
    return element ? element.closest("[data-target]") : null;
  }

  document.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    if (!drag.moved && Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 4) { return; }
    if (!drag.moved) {
      drag.moved = true;
      drag.ghost = drag.chip.cloneNode(true);
      drag.ghost.removeAttribute("data-source");
      drag.ghost.classList.add("drag-ghost");
      drag.ghost.setAttribute("aria-hidden", "true");
      document.body.appendChild(drag.ghost);
      say("Dragging " + drag.chip.getAttribute("data-source") + ".");
    }
    drag.ghost.style.left = (event.clientX + 8) + "px";
    drag.ghost.style.top = (event.clientY + 8) + "px";
    var over = targetAt(event.clientX, event.clientY);
    if (over !== drag.over) {
      if (drag.over) { drag.over.classList.remove("over"); }
      if (over) { over.classList.add("over"); }
      drag.over = over;
    }
  });

  document.addEventListener("pointerup", function (event) {
    if (!drag) { return; }
    var ended = drag;
    drag = null;
    if (!ended.moved) { return; }
    // A drag is not a press: keep the click that follows from picking the chip up.
    drag = { moved: true };
    setTimeout(function () { drag = null; }, 0);
    if (ended.ghost) { ended.ghost.remove(); }
    if (ended.over) { ended.over.classList.remove("over"); }
    var target = targetAt(event.clientX, event.clientY) || ended.over;
    if (!target) { say("Dropped outside a target: nothing changed."); return; }
    unpick();
    place(ended.chip.getAttribute("data-source"), target.getAttribute("data-target"));
  });

  function cell(tag, text, className) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (className) { element.className = className; }
    return element;
  }

  function showProblems(problems) {
    form.querySelectorAll("ul[data-problems-for]").forEach(function (list) { list.textContent = ""; });
    var other = document.getElementById("designer-other-problems");
    if (other) { other.textContent = ""; }
    problems.forEach(function (problem) {
      var home = null;
      form.querySelectorAll("ul[data-problems-for]").forEach(function (list) {
        var path = list.getAttribute("data-problems-for");
        var under = problem.path === path || (path !== "payment_intent.metadata" &&
          (problem.path.indexOf(path + ".") === 0 || problem.path.indexOf(path + "[") === 0));
        if (under && !home) { home = list; }
      });
      var item = document.createElement("li");
      item.appendChild(cell("code", problem.path || "(document)"));
      item.appendChild(document.createTextNode(": " + problem.message));
      (home || other).appendChild(item);
    });
  }

  function showPreview(answer) {
    panel.textContent = "";
    panel.appendChild(cell("h2", "The Stripe request"));
    var preview = answer.preview;
    if (preview) {
      var line = document.createElement("p");
      line.appendChild(cell("code", preview.request, "request"));
      line.appendChild(document.createTextNode(" (as version " + preview.version + ")"));
      panel.appendChild(line);
      panel.appendChild(cell("pre", preview.body, "body"));
      var table = document.createElement("table");
      table.className = "fields";
      var head = table.createTHead().insertRow();
      head.appendChild(cell("th", "field"));
      head.appendChild(cell("th", "value"));
      var body = table.createTBody();
      preview.fields.forEach(function (field) {
        var row = body.insertRow();
        var name = row.insertCell();
        name.appendChild(cell("code", field[0]));
        row.insertCell().textContent = field[1];
      });
      panel.appendChild(table);
      preview.aliases.forEach(function (alias) {
        panel.appendChild(cell("p", "alias: " + alias[0] + " '" + alias[1] + "' → " + alias[2], "muted"));
      });
      preview.notes.forEach(function (note) { panel.appendChild(cell("p", note, "bad")); });
    } else if (answer.error) {
      panel.appendChild(cell("p", "No request: " + answer.error, "bad"));
    } else {
      panel.appendChild(cell("p", "The working document has " + answer.problems.length + " problem(s): see each target.", "bad"));
    }
    showProblems(answer.problems || []);
  }

  function refresh() {
    var object = form.elements.namedItem("object").value;
    // The order statuses and the Customer's owners have no Stripe request: their preview is
    // the page's own.
    if (object !== "payment_intent" && object !== "checkout_session") { return; }
    var request = {
      document: form.elements.namedItem("document").value,
      sample: form.elements.namedItem("sample").value,
      object: object
    };
    if (request.sample === "pasted") {
      try { request.event = JSON.parse(form.elements.namedItem("pasted").value); } catch (e) { return; }
    }
    fetch("/console/api/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(request)
    })
      .then(function (answer) { return answer.json(); })
      .then(function (answer) { if (answer && (answer.preview || answer.problems)) { showPreview(answer); } })
      .catch(function () { /* the page's own preview stays */ });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.indexOf("description.") === 0) { return; }
    if (event.target.form !== form) { return; }
    refresh();
  });
  refresh();
})();
