// Projector: big, legible from the back of the hall. Turnout while a round is open; results once shown.
// Text never shrinks to fit: a result longer than the screen is split into pages (by post first,
// then by rows), shown in turn, each page with the round's title; the arrow keys step through them.
// The header shows the 应到/实到 of the round on screen, never the meeting's.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const stage = document.getElementById("stage");
  const pager = document.getElementById("pager");
  const PAGE_SECONDS = 12;

  const R = window.ScrutineerResults(T);
  const el = R.el;

  let pages = [];
  let pageIndex = 0;
  let shownKey = "";
  let timer = null;

  function fmt(text, params) { return R.fmt(text, params); }

  function rankingTable(j) {
    const short = j.shortlist;
    const tb = el("table", "result");
    const head = el("tr");
    [T.rank, T.name, T.mean].concat(short ? [T.result] : []).forEach((h, i) => head.append(el("th", i === 0 || i === 2 ? "num" : null, h)));
    const th = el("thead"); th.append(head); tb.append(th);
    const body = el("tbody");
    for (const r of j.ranking || []) {
      const tr = el("tr", r.shortlisted ? "pass" : "");
      const cells = [r.rank || "—", r.name, r.mean || T.incomplete];
      if (short) cells.push(r.shortlisted ? T.shortlisted : "");
      cells.forEach((c, i) => tr.append(el("td", i === 0 || i === 2 ? "num" : null, c)));
      body.append(tr);
    }
    tb.append(body);
    return tb;
  }

  // 亮分: a contestant's panel by seat, the k highest and k lowest struck through, the mean large.
  function judgingBlock(r) {
    const j = r.judging;
    const sec = el("section", "round judging");
    sec.dataset.round = r.id;
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
        main.append(grid);
        const panel = el("div", "mean-label", T.final);
        // A panel shown with fewer than all its judges says so: 28/30.
        if (j.result.count < j.judges) panel.append(el("span", "panel-count", " · " + fmt(T.panel_of, {n: j.result.count, m: j.judges})));
        main.append(panel, el("div", "mean", j.result.mean));
      }
    } else {
      main.append(el("p", "phase", T.waiting_contestant));
    }
    const side = el("div", "judging-side");
    side.append(el("h3", null, T.ranking), rankingTable(j));
    wrap.append(main, side);
    sec.append(wrap);
    return sec;
  }

  function turnoutBlock(r) {
    const sec = el("section", "round " + r.status);
    sec.dataset.round = r.id;
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
    } else {
      sec.append(el("p", "phase", r.status === "closed" ? T.closed : T.counted));
    }
    if (r.chain_head && r.status !== "open") sec.append(el("p", "chain", `${T.chain}: ${r.chain_head.slice(0, 16)}…`));
    return sec;
  }

  const overflowing = () => stage.scrollHeight > stage.clientHeight + 1;

  // Lay the rounds out into pages that each fit the stage at full size.
  function paginate(rounds) {
    const out = [];
    let page = null;
    function newPage() {
      if (page) page.remove();
      page = el("div", "page");
      stage.append(page);
      out.push(page);
    }
    function section(r, continued) {
      const sec = el("section", "round revealed");
      sec.dataset.round = r.id;
      sec.append(el("h2", null, r.title + (continued ? " " + T.continued : "")));
      if (continued) sec.dataset.continued = "1";
      page.append(sec);
      return sec;
    }
    const fresh = () => page.childElementCount === 0;
    newPage();
    for (const r of rounds) {
      if (!r.view) {
        const blk = r.judging && r.status === "open" ? judgingBlock(r) : turnoutBlock(r);
        if (!fresh()) { page.append(blk); if (overflowing()) { blk.remove(); newPage(); page.append(blk); } } else page.append(blk);
        continue;
      }
      const parts = R.parts(r.view);
      // Several narrow tables (a slate of posts) go two abreast: more on a page, at full size.
      const twoUp = parts.tables.length > 1 && parts.tables.every((t) => t.columns.length <= 5);
      const holder = (sec) => {
        if (!twoUp) return sec;
        let h = sec.querySelector(":scope > .blocks");
        if (!h) { h = el("div", "blocks two-up"); sec.append(h); }
        return h;
      };
      const startedFresh = fresh();
      let sec = section(r, false);
      parts.head.forEach((n) => sec.append(n));
      if (overflowing() && !startedFresh) { sec.remove(); newPage(); sec = section(r, false); parts.head.forEach((n) => sec.append(n)); }
      if (r.view.chain_head) {
        // On the figures' line when there is one: a line saved is a row more on the page.
        const chain = el("span", "chain", `${T.chain}: ${r.view.chain_head.slice(0, 16)}…`);
        const facts = sec.querySelector("p.facts");
        if (facts) facts.append(chain); else sec.append(el("p", "chain", chain.textContent));
      }
      for (const t of parts.tables) {
        let blk = el("div", "table-block");
        t.caption.forEach((n) => blk.append(n));
        let table = R.tableEl(t);
        blk.append(table);
        holder(sec).append(blk);
        if (!overflowing()) continue;
        // Split by post first: a table after another one starts a page of its own; the first
        // table of a round stays under the round's head and continues on the next page.
        blk.remove();
        if (sec.querySelector(".table-block") || page.childElementCount > 1) {
          newPage(); sec = section(r, true);
        }
        blk = el("div", "table-block");
        t.caption.forEach((n) => blk.append(n));
        table = R.tableEl(t, []);
        blk.append(table);
        holder(sec).append(blk);
        // Then by rows: as many as fit, the rest on the next page under the same heading.
        for (const row of t.rows) {
          const tr = R.rowEl(row);
          table.tBodies[0].append(tr);
          // A row that does not fit goes to the next page (unless this page is already a
          // continuation holding nothing else: then it stays, whatever its height).
          const alone = table.tBodies[0].rows.length === 1 && sec.dataset.continued === "1" &&
            sec.querySelectorAll(".table-block").length === 1;
          if (overflowing() && !alone) {
            tr.remove();
            if (!table.tBodies[0].rows.length) blk.remove();
            newPage(); sec = section(r, true);
            blk = el("div", "table-block");
            if (t.title) blk.append(el("h3", "post", t.title));
            table = R.tableEl(t, []);
            blk.append(table);
            holder(sec).append(blk);
            table.tBodies[0].append(tr);
          }
        }
      }
    }
    page.remove();
    return out;
  }

  function showPage(i) {
    pageIndex = pages.length ? ((i % pages.length) + pages.length) % pages.length : 0;
    stage.textContent = "";
    if (pages.length) stage.append(pages[pageIndex]);
    pager.hidden = pages.length < 2;
    pager.textContent = fmt(T.page_of, {n: pageIndex + 1, m: pages.length});
    stage.dataset.pages = String(pages.length);
    stage.dataset.page = String(pageIndex + 1);
  }

  function restartTimer() {
    if (timer) window.clearInterval(timer);
    timer = pages.length > 1 ? window.setInterval(() => showPage(pageIndex + 1), PAGE_SECONDS * 1000) : null;
  }

  // The header: the 应到/实到 of the round on screen (of all of them, when they agree).
  function header(shown, state) {
    const att = document.querySelector("header .att");
    const rounds = shown.filter((r) => r.expected !== null && r.expected !== undefined && r.present !== null && r.present !== undefined);
    let expected = null, present = null;
    if (shown.length && rounds.length === shown.length &&
        rounds.every((r) => r.expected === rounds[0].expected && r.present === rounds[0].present)) {
      expected = rounds[0].expected; present = rounds[0].present;
    } else if (!shown.length && !(state.attendance.groups || []).length && state.attendance.expected) {
      expected = state.attendance.expected; present = state.attendance.present;  // waiting: the hall's sign-in
    }
    att.hidden = expected === null;
    document.getElementById("att-expected").textContent = expected === null ? "" : expected;
    document.getElementById("att-present").textContent = present === null ? "" : present;
  }

  // One thing at a time, legible from the back: the open rounds; else the result shown last;
  // else the round closed last.
  function apply(state) {
    const byId = Object.fromEntries(state.rounds.map((r) => [r.id, r]));
    let shown = state.rounds.filter((r) => r.status === "open");
    let key = "open:" + shown.map((r) => r.id).join(",");
    if (!shown.length && state.revealed_order && state.revealed_order.length) {
      shown = [byId[state.revealed_order[state.revealed_order.length - 1]]].filter(Boolean);
      key = "shown:" + state.revealed_order.length + ":" + shown.map((r) => r.id).join(",");
    }
    if (!shown.length) {
      shown = state.rounds.filter((r) => r.status === "closed" || r.status === "counted").slice(-1);
      key = "closed:" + shown.map((r) => r.id).join(",");
    }
    header(shown, state);
    // The scrutineers' card list, fixed before voting: anyone can compare it with their copy.
    const list = state.card_list;
    const listLine = (cls) => {
      const p = el("span", cls);
      if (!list) return p;
      p.append(`${T.card_list}: `, el("span", "fingerprint", list.fingerprint), ` (${list.cards} ${T.cards})`);
      return p;
    };
    document.getElementById("card-list").replaceWith(Object.assign(listLine("card-list"), {id: "card-list"}));
    stage.classList.toggle("many", shown.length > 1);
    stage.textContent = "";
    if (!shown.length) {
      pages = [el("div", "page")];
      pages[0].append(el("p", "waiting", T.waiting));
      if (list) pages[0].append(listLine("card-list-big"));
    } else {
      pages = paginate(shown.map((r) => (r.revealed && r.view && r.status === "counted" ? r : Object.assign({}, r, {view: null}))));
    }
    // A live update of the same screen keeps the page on show; a new screen starts at its first page.
    const same = key === shownKey;
    shownKey = key;
    showPage(same ? Math.min(pageIndex, pages.length - 1) : 0);
    if (!same || (pages.length > 1) !== (timer !== null)) restartTimer();
  }

  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "PageDown" || e.key === " ") { showPage(pageIndex + 1); restartTimer(); }
    if (e.key === "ArrowLeft" || e.key === "PageUp") { showPage(pageIndex - 1); restartTimer(); }
  });
  let last = null;
  window.addEventListener("resize", () => { if (last) apply(last); });

  last = JSON.parse(document.getElementById("state").textContent);
  apply(last);
  const socket = io("/live", {transports: ["websocket"], auth: {t: document.body.dataset.token || ""}});
  const conn = document.getElementById("conn");
  socket.on("connect", () => conn.classList.add("up"));
  socket.on("disconnect", () => conn.classList.remove("up"));
  socket.on("state", (s) => { last = s; apply(s); });
})();
