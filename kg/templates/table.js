// Sort and filter the tables marked data-sortable. Progressive: without JavaScript they are
// plain tables; the controls exist only where this script runs. A cell's data-sort attribute,
// when present, is its sort key (numbers compare as numbers, text case-insensitively).
(function () {
  "use strict";
  function key(cell) {
    var text = cell.getAttribute("data-sort");
    if (text === null) { text = cell.textContent.trim(); }
    var number = Number(text);
    return text !== "" && !isNaN(number) ? { n: number, s: text } : { n: null, s: text.toLowerCase() };
  }
  function compare(a, b) {
    if (a.n !== null && b.n !== null) { return a.n - b.n; }
    if (a.n !== null) { return -1; }
    if (b.n !== null) { return 1; }
    return a.s < b.s ? -1 : (a.s > b.s ? 1 : 0);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), function (table) {
    var body = table.tBodies[0];
    var heads = table.tHead.rows[0].cells;
    var original = Array.prototype.slice.call(body.rows);
    Array.prototype.forEach.call(heads, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = original.slice();
        rows.sort(function (a, b) {
          var c = compare(key(a.cells[index]), key(b.cells[index]));
          return ascending ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    var tools = document.createElement("div");
    tools.className = "table-tools";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "Filter rows (any text)";
    input.setAttribute("aria-label", "Filter the rows of the table");
    var count = document.createElement("span");
    count.className = "muted";
    count.setAttribute("aria-live", "polite");
    function filter() {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      original.forEach(function (row) {
        var hit = query === "" || row.textContent.toLowerCase().indexOf(query) >= 0;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      count.textContent = shown + " of " + original.length + " rows";
    }
    input.addEventListener("input", filter);
    tools.appendChild(input);
    tools.appendChild(count);
    table.parentNode.insertBefore(tools, table);
    filter();
  });
})();
