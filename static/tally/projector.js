// Projector: big, legible from the back of the hall. Turnout while a round is open; results once shown.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const stage = document.getElementById("stage");

  const R = window.ScrutineerResults(T);
  const el = R.el;
  const table = R.table;

  function ranking(rows) {
    return table([T.rank, T.name, T.mean], rows.map((r) => ({cells: [r.rank || "—", r.name, r.mean || T.incomplete]})));
  }

  // 亮分: a contestant's panel by seat, the k highest and k lowest struck through, the mean large.
  function judgingBlock(r) {
    const j = r.judging;
    const sec = el("section", "round judging");
    sec.append(el("h2", null, r.title));
    const wrap = el("div", "judging-wrap");
    const main = el("div", "judging-main");
    if (j.current) {
      main.append(el("div", "contestant", j.current));
      if (j.phase === "scoring") {
        const big = el("div", "turnout");
        big.append(el("span", "cast", j.scored || 0), el("span", "sep", "/"), el("span", "of", j.judges));
        main.append(big, el("div", "turnout-label", T.scored));
      } else if (j.phase === "revealed" && j.result) {
        const grid = el("div", "seats");
        for (const x of j.result.scores) {
          const cell = el("div", "seat" + (x.struck ? " struck " + x.struck : ""));
          cell.append(el("span", "label", x.label), el("span", "value", x.score));
          grid.append(cell);
        }
        main.append(grid, el("div", "mean-label", T.final), el("div", "mean", j.result.mean));
      }
    } else {
      main.append(el("p", "phase", T.waiting_contestant));
    }
    const side = el("div", "judging-side");
    side.append(el("h3", null, T.ranking), ranking(j.ranking || []));
    wrap.append(main, side);
    sec.append(wrap);
    return sec;
  }

  function roundBlock(r) {
    if (r.kind === "score" && r.judging && r.status === "open") return judgingBlock(r);
    const sec = el("section", "round " + r.status);
    sec.append(el("h2", null, r.title));
    if (r.status === "open") {
      sec.append(el("p", "phase", T.voting_open));
      if (r.present) {
        const big = el("div", "turnout");
        big.append(el("span", "cast", r.cast), el("span", "sep", "/"), el("span", "of", r.present));
        const lbl = el("div", "turnout-label", `${T.cast} / ${T.present}`);
        const bar = el("div", "bar"); const fill = el("div", "fill");
        fill.style.width = Math.min(100, Math.round((100 * r.cast) / r.present)) + "%";
        bar.append(fill);
        sec.append(big, lbl, bar);
      }
    } else if (r.revealed && r.result) {
      const res = r.result;
      if (res.status && res.status !== "counted") sec.append(el("p", "alert", T[res.status] || res.status));
      if (res.expected !== undefined) {
        sec.append(el("p", "facts", `${T.expected} ${res.expected} · ${T.present} ${res.present} · ` +
          (res.issued !== undefined ? `${T.issued} ${res.issued} · ${T.returned} ${res.returned}` : "")));
      }
      if (!res.status || res.status === "counted" || r.kind === "decide") sec.append(R.render(r, res));
    } else if (r.status === "closed" || r.status === "counted") {
      sec.append(el("p", "phase", r.status === "closed" ? T.closed : T.counted));
    }
    if (r.chain_head && r.status !== "open") sec.append(el("p", "chain", `${T.chain}: ${r.chain_head.slice(0, 16)}…`));
    return sec;
  }

  // One thing at a time, legible from the back: the open rounds; else the result shown last;
  // else the round closed last.
  function apply(state) {
    document.getElementById("att-expected").textContent = state.attendance.expected;
    document.getElementById("att-present").textContent = state.attendance.present;
    // A contest with no roster (judges only) has no 应到/实到 to show.
    document.querySelector("header .att").hidden = !state.attendance.expected;
    stage.textContent = "";
    const byId = Object.fromEntries(state.rounds.map((r) => [r.id, r]));
    let shown = state.rounds.filter((r) => r.status === "open");
    if (!shown.length && state.revealed_order && state.revealed_order.length) {
      shown = [byId[state.revealed_order[state.revealed_order.length - 1]]].filter(Boolean);
    }
    if (!shown.length) shown = state.rounds.filter((r) => r.status === "closed" || r.status === "counted").slice(-1);
    if (!shown.length) stage.append(el("p", "waiting", T.waiting));
    shown.forEach((r) => stage.append(roundBlock(r)));
    fit();
  }

  // Whatever is shown must fit the screen: shrink the stage until nothing is cut off.
  function fit() {
    let zoom = 1;
    stage.style.zoom = "1";
    while (zoom > 0.45 && stage.scrollHeight > stage.clientHeight + 1) {
      zoom -= 0.05;
      stage.style.zoom = String(zoom);
    }
  }
  window.addEventListener("resize", fit);

  apply(JSON.parse(document.getElementById("state").textContent));
  const socket = io("/live", {transports: ["websocket"], auth: {t: document.body.dataset.token || ""}});
  const conn = document.getElementById("conn");
  socket.on("connect", () => conn.classList.add("up"));
  socket.on("disconnect", () => conn.classList.remove("up"));
  socket.on("state", apply);
})();
