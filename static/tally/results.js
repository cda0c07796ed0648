// A counted round's view (tally.show.results: one model per round kind, the same as the printed
// sheets), rendered for the projector and the chair's console. Labels are {msgid, params} (words
// of the page's table #result-words, translated on the server) or the meeting's own words, which
// are shown as they are. Every value goes in with textContent: data never becomes markup.
// `window.ScrutineerResults(pageWords)` returns the renderers.
(function () {
  "use strict";
  window.ScrutineerResults = function (pageWords) {
    const W = JSON.parse(document.getElementById("result-words").textContent);
    const T = Object.assign({}, pageWords || {});

    function fmt(text, params) {
      return String(text).replace(/%\((\w+)\)s/g, (m, k) => (params && k in params ? String(params[k]) : m));
    }
    function say(label) {
      if (label === null || label === undefined) return "";
      if (typeof label === "string") return label;
      return fmt(W[label.msgid] || label.msgid, label.params || {});
    }
    const word = (msgid) => W[msgid] || msgid;

    function el(tag, cls, text) {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined && text !== null) e.textContent = String(text);
      return e;
    }

    function cellText(col, v) {
      if (v === null || v === undefined) return "—";
      if (col.format === "percent") return v + "%";
      if (col.format === "marks") return v.map(word).join("、");
      if (col.format === "word") return word(v);
      if (col.format === "count" && col.total) return v + "/" + col.total;
      return String(v);
    }

    function columnTitle(col) {
      let t = say(col.label);
      if (col.note) t += " " + col.note;
      return t;
    }

    // The compact form: a joined column goes in the previous column's cell ("30 (52.63%)").
    function compact(table) {
      const shown = [];
      table.columns.forEach((c, i) => { if (!c.joins) shown.push(i); });
      const joined = {};
      table.columns.forEach((c, i) => { if (c.joins) joined[i - 1] = i; });
      return {
        columns: shown.map((i) => Object.assign({}, table.columns[i], {joined: i in joined ? table.columns[joined[i]] : null})),
        rows: table.rows.map((r) => ({
          highlight: r.highlight,
          cells: shown.map((i) => {
            const col = table.columns[i];
            const extra = i in joined && r.cells[joined[i]] !== null ? `(${cellText(table.columns[joined[i]], r.cells[joined[i]])})` : null;
            return {text: cellText(col, r.cells[i]), extra, numeric: ["count", "decimal", "percent"].includes(col.format),
              struck: r.struck[i] || null};
          }),
        })),
      };
    }

    function thead(columns) {
      const h = el("thead");
      const tr = el("tr");
      columns.forEach((c) => tr.append(el("th", ["count", "decimal", "percent"].includes(c.format) ? "num" : null, columnTitle(c))));
      h.append(tr);
      return h;
    }

    function rowEl(row) {
      const tr = el("tr", row.highlight ? "pass" : "");
      row.cells.forEach((c) => {
        const td = el("td", (c.numeric ? "num" : "") + (c.struck ? " struck " + c.struck : ""));
        // "30 (52.63%)": the rate may go under the count when the column is narrow, never over it.
        if (c.extra) td.append(el("span", "part", c.text), " ", el("span", "part sub", c.extra));
        else td.textContent = c.text;
        tr.append(td);
      });
      return tr;
    }

    function figures(list, cls) {
      const p = el("p", cls || "facts");
      list.forEach((f) => {
        const s = el("span", "figure");
        s.dataset.key = f.key;
        s.append(el("span", "flabel", word(f.label) + " "), el("b", null, f.value));
        p.append(s);
      });
      return p;
    }

    function lines(phrases, cls) {
      const ul = el("ul", cls || "rules");
      phrases.forEach((p) => ul.append(el("li", null, say(p))));
      return ul;
    }

    // What a view is made of, in reading order: the round's head, then each table's caption and
    // rows. The projector pages these; the console shows them all.
    function parts(view) {
      const head = [];
      if (view.figures.length) head.push(figures(view.figures));
      view.alerts.forEach((a) => head.push(el("p", "alert", say(a))));
      if (view.rules.length) head.push(lines(view.rules));
      const tables = view.tables.map((t) => {
        const caption = [];
        const title = [t.title, say(t.heading)].filter(Boolean).join(" · ");
        if (title) caption.push(el("h3", "post", title));
        if (t.figures.length) caption.push(figures(t.figures, "facts small"));
        if (t.rules.length) caption.push(lines(t.rules, "rules small"));
        const c = compact(t);
        return {key: t.key, title, caption, columns: c.columns, rows: c.rows};
      });
      return {head, tables};
    }

    // Column widths by what a column holds, so a table continued on the next page lines up.
    const WEIGHT = {text: 2.6, marks: 2.2, percent: 1.9, decimal: 1.5, count: 1.2, word: 2};
    function colgroup(columns) {
      const g = el("colgroup");
      const weights = columns.map((c) => (WEIGHT[c.format] || 1.5) + (c.joined ? WEIGHT[c.joined.format] || 1.5 : 0));
      const total = weights.reduce((a, b) => a + b, 0);
      weights.forEach((w) => { const c = el("col"); c.style.width = (100 * w / total).toFixed(2) + "%"; g.append(c); });
      return g;
    }

    function tableEl(part, rows) {
      const tb = el("table", "result");
      tb.dataset.table = part.key;
      tb.append(colgroup(part.columns), thead(part.columns));
      const body = el("tbody");
      (rows || part.rows).forEach((r) => body.append(rowEl(r)));
      tb.append(body);
      return tb;
    }

    // Everything at once (the console's preview).
    function render(view) {
      const box = el("div", "view");
      box.dataset.round = view.id;
      const p = parts(view);
      p.head.forEach((e) => box.append(e));
      p.tables.forEach((t) => {
        const blk = el("div", "table-block");
        t.caption.forEach((e) => blk.append(e));
        blk.append(tableEl(t));
        box.append(blk);
      });
      return box;
    }

    return {el, say, word, fmt, parts, tableEl, rowEl, render, compact, T};
  };
})();
