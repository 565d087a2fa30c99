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
