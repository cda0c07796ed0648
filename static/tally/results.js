// The result tables of every round kind, shared by the projector and the chair console.
// `window.ScrutineerResults(T)` takes the page's translated words and returns the renderers.
(function () {
  "use strict";
  window.ScrutineerResults = function (pageWords) {
    const T = Object.assign({}, JSON.parse(document.getElementById("result-words").textContent), pageWords || {});
    const ge = (t) => String(t).replace(">=", "≥ ").replace(">", "> ");

    function el(tag, cls, text) {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined && text !== null) e.textContent = String(text);
      return e;
    }

    function table(headers, rows) {
      const tb = el("table", "result");
      const tr = el("tr");
      headers.forEach((h) => tr.append(el("th", null, h)));
      const thead = el("thead"); thead.append(tr); tb.append(thead);
      const body = el("tbody");
      rows.forEach((r) => {
        const row = el("tr", r.cls || "");
        r.cells.forEach((c) => row.append(el("td", null, c)));
        body.append(row);
      });
      tb.append(body);
      return tb;
    }

    function recommend(res, round) {
      const box = el("div", "posts" + (res.posts.length > 1 ? " many" : ""));
      const titles = (round && round.post_titles) || {};
      for (const p of res.posts) {
        const one = el("div", "post-block");
        box.append(one);
        if (res.posts.length > 1 || titles[p.id]) one.append(el("h3", "post", titles[p.id] || p.id));
        one.append(el("p", "facts", `${T.valid} ${p.valid} · ${T.invalid} ${p.invalid} · ${T.blank} ${p.blank} · ${T.seats} ${p.seats} · ${T.threshold} ${ge(p.threshold)}`));
        one.append(table([T.name, T.votes, T.rate, T.result], p.candidates.map((c) => ({
          cls: c.passes ? "pass" : "",
          cells: [c.name + (c.write_in ? ` (${T.write_in})` : ""), c.votes, c.rate + "%", c.passes ? "✔ " + T.passes : T.fails],
        }))));
      }
      return box;
    }

    function evaluate(res) {
      const grades = res.subjects.length ? Object.keys(res.subjects[0].counts) : [];
      return table([T.subject, ...grades, T.competent_or_above, T.score, T.result], res.subjects.map((s) => ({
        cls: s.passes ? "pass" : "",
        cells: [s.name, ...grades.map((g) => `${s.counts[g]} (${s.rates[g]}%)`), s.rates.competent_or_above + "%",
          s.score || "—", s.passes === true ? "✔" : (s.passes === false ? "✖" : "—")],
      })));
    }

    function decide(res) {
      return table([T.name, T.agree, T.disagree, T.abstain, T.not_voted, T.result], res.nominees.map((n) => ({
        cls: n.outcome === "passed" ? "pass" : "",
        cells: [n.name, n.agree, n.disagree, n.abstain, n.not_voted, (T[n.outcome] || n.outcome) + (n.elected ? " · " + T.elected : "")],
      })));
    }

    function score(res) {
      return table([T.rank, T.name, T.mean], res.contestants.map((c) => ({
        cells: [c.rank || "—", c.name, c.mean || T.incomplete],
      })));
    }


    function composite(res) {
      return table([T.rank, T.name, T.composite, T.result], res.candidates.map((c) => ({
        cls: c.shortlisted ? "pass" : "",
        cells: [c.rank || "—", c.name, c.composite || T.incomplete, c.shortlisted ? "✔ " + T.shortlisted : ""],
      })));
    }

    const KINDS = {recommend, evaluate, decide, score, composite};

    function render(round, res) {
      return KINDS[round.kind] ? KINDS[round.kind](res, round) : el("pre", null, JSON.stringify(res, null, 1));
    }

    return {el, table, render};
  };
})();
