// Chair console: actions through the JSON API (session cookie + CSRF header), live state over Socket.IO.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const t = (k) => T[k] || k;

  async function call(path, body) {
    const resp = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {}),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      alert((data.error && data.error.message) || resp.statusText);
      return null;
    }
    return data;
  }

  let rounds = {};  // the latest state of each round, by id (for the dialogs' cast/实到)

  // "35 ballots received of 40 present (实到)": what the chair confirms before closing or counting.
  function turnoutText(r) {
    return r ? r.title + "：" + fmt(t("turnout_line"), {cast: r.cast, present: r.present === null || r.present === undefined ? "—" : r.present}) : "";
  }
  function fmt(text, params) { return String(text).replace(/%\((\w+)\)s/g, (m, k) => (k in params ? String(params[k]) : m)); }

  function askPassphrase(r) {
    const dlg = document.getElementById("passphrase-dialog");
    const input = document.getElementById("passphrase");
    document.getElementById("count-turnout").textContent = turnoutText(r);
    input.value = "";
    return new Promise((resolve) => {
      dlg.onclose = () => resolve(dlg.returnValue === "ok" ? input.value : null);
      dlg.showModal();
    });
  }

  document.querySelectorAll("#rounds button[data-act]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const id = btn.closest("tr").dataset.round;
      const act = btn.dataset.act;
      let body = {};
      if (act === "close" && !confirm(turnoutText(rounds[id]) + "\n" + t("confirm_close"))) return;
      if (act === "count") {
        const status = btn.closest("tr").querySelector(".status").dataset.status;
        if (status === "closed" && (!rounds[id] || rounds[id].secret)) {
          const p = await askPassphrase(rounds[id]);
          if (!p) return;
          body = {passphrase: p};
        }
      }
      const out = await call(`/api/v1/admin/rounds/${encodeURIComponent(id)}/${act}`, body);
      if (out && out.view) showResult(out);
    });
  });

  const R = window.ScrutineerResults(T);

  // The counted result, as the projector and the sheet show it (the same view).
  function showResult(r) {
    const box = document.getElementById("result-preview");
    box.textContent = "";
    box.append(R.el("h3", null, r.title), R.render(r.view));
  }

  // Kiosks heard from lately (or waiting to be confirmed) are listed; the others fold into one
  // line with a count, opened on request: after a simulation hundreds of old rows would bury them.
  let showAllKiosks = false;
  function renderKiosks(kiosks) {
    const tbody = document.querySelector("#kiosks tbody");
    tbody.textContent = "";
    const stale = kiosks.filter((k) => k.stale);
    const fold = document.getElementById("kiosks-folded");
    fold.hidden = !stale.length;
    fold.querySelector(".n").textContent = fmt(t(showAllKiosks ? "kiosks_unfolded" : "kiosks_folded"), {n: stale.length});
    fold.querySelector("button").textContent = t(showAllKiosks ? "hide" : "show_all");
    for (const k of kiosks) {
      if (k.stale && !showAllKiosks) continue;
      const tr = document.createElement("tr");
      tr.dataset.kiosk = k.id;
      const cells = [(k.online ? "● " : "○ ") + k.name, k.fingerprint, t(k.status) + " · " + t(k.online ? "online" : "offline"), String(k.outbox)];
      cells.forEach((c, i) => {
        const td = document.createElement("td");
        if (i === 1) { const code = document.createElement("code"); code.textContent = c; td.append(code); }
        else td.textContent = c;
        if (i === 2) td.className = "status";
        tr.append(td);
      });
      const td = document.createElement("td");
      const acts = [];
      if (k.status === "pending") acts.push(["confirm", t("confirm_label")]);
      if (k.status !== "revoked") acts.push(["revoke", t("revoke_label")]);
      for (const [act, label] of acts) {
        const b = document.createElement("button");
        b.dataset.kact = act;
        b.textContent = label;
        if (act === "revoke") b.className = "danger";
        td.append(b);
      }
      tr.append(td);
      tbody.append(tr);
    }
  }

  document.querySelector("#kiosks-folded button").addEventListener("click", () => {
    showAllKiosks = !showAllKiosks;
    if (lastState) renderKiosks(lastState.kiosks);
  });

  document.getElementById("kiosks").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-kact]");
    if (!b) return;
    if (b.dataset.kact === "revoke" && !confirm(t("confirm_revoke"))) return;
    await call(`/api/v1/admin/kiosks/${b.closest("tr").dataset.kiosk}/${b.dataset.kact}`);
  });

  document.getElementById("new-offer").addEventListener("click", async () => {
    const out = await call("/api/v1/admin/offers", {count: 1});
    if (!out) return;
    const box = document.getElementById("offer");
    box.textContent = "";
    const img = document.createElement("img");
    img.src = "data:image/svg+xml;base64," + btoa(out.qr_svg[0]);  // an image: nothing in it can run
    img.alt = "";
    box.append(img);
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = t("scan_to_pair") + " " + out.offers[0];
    box.append(p);
  });

  document.getElementById("roster-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = new FormData(ev.target);
    const resp = await fetch("/api/v1/admin/roster", {method: "POST", body: fd, headers: {"X-CSRF-Token": csrf}});
    const data = await resp.json().catch(() => ({}));
    alert(resp.ok ? `${t("imported")}: ${data.imported}` : (data.error && data.error.message));
  });

  // Judge scoring: panel, judge cards, order, next contestant, show, void.
  document.querySelectorAll("section.judging").forEach((sec) => {
    const id = sec.dataset.round;
    sec.querySelectorAll("button[data-jact]").forEach((b) => b.addEventListener("click", async () => {
      const act = b.dataset.jact;
      if (act === "cards") {
        const f = document.createElement("form");
        f.method = "post"; f.action = `/console/rounds/${encodeURIComponent(id)}/judge-cards`; f.target = "_blank";
        const i = document.createElement("input"); i.type = "hidden"; i.name = "csrf"; i.value = csrf; f.append(i);
        document.body.append(f); f.submit(); f.remove();
        return;
      }
      const path = {draw: "draw", order: "order", next: "next", show: "show"}[act];
      const out = await call(`/api/v1/admin/rounds/${encodeURIComponent(id)}/${path}`, {});
      if (out && act === "draw") alert(`${t("drawn")} · ${t("seed")}: ${out.seed}`);
    }));
    sec.querySelector("form.void").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const fd = new FormData(ev.target);
      const out = await call(`/api/v1/admin/rounds/${encodeURIComponent(id)}/void`, {seat: Number(fd.get("seat")), reason: fd.get("reason")});
      if (out) ev.target.reset();
    });
  });

  function renderJudging(r) {
    const sec = document.querySelector(`section.judging[data-round="${CSS.escape(r.id)}"]`);
    if (!sec) return;
    // 下一位选手 is the chair's next step only once the round is open.
    sec.querySelector('button[data-jact="next"]').classList.toggle("primary", r.status === "open");
    if (!r.judging) return;
    const j = r.judging;
    const box = sec.querySelector(".jstatus");
    box.textContent = "";
    const p = document.createElement("p");
    p.className = "big";
    p.textContent = j.current ? `${t("current")}: ${j.current} · ${j.scored || 0} / ${j.judges} ${t("scored")}` +
      (j.phase === "revealed" ? ` · ${t("revealed")}: ${j.result ? j.result.mean : ""}` : "") : t("none_yet");
    box.append(p);
    const seats = document.createElement("div");
    seats.className = "seatmap";
    const scored = new Set(j.scored_seats || []);
    const flagged = new Set(j.flags || []);
    for (let n = 1; n <= j.judges; n++) {
      const d = document.createElement("span");
      d.className = "seatdot" + (scored.has(n) ? " done" : "") + (flagged.has(n) ? " flag" : "");
      d.textContent = "J" + String(n).padStart(2, "0");
      seats.append(d);
    }
    box.append(seats);
    if (flagged.size) {
      const w = document.createElement("p");
      w.className = "alert";
      w.textContent = `${t("flagged")}: ` + [...flagged].map((n) => "J" + String(n).padStart(2, "0")).join(", ");
      box.append(w);
    }
    const o = document.createElement("p");
    o.className = "muted";
    o.textContent = `${t("order")}: ${j.order.join(" → ")}`;
    box.append(o);
    const rk = document.createElement("p");
    rk.textContent = `${t("ranking")}: ` + (j.ranking || []).map((x) => `${x.rank || "—"}. ${x.name} ${x.mean}`).join(" · ");
    box.append(rk);
  }

  function renderGroups(groups) {
    const box = document.getElementById("electorates");
    box.hidden = !groups.length;
    const tbody = box.querySelector("tbody");
    tbody.textContent = "";
    for (const g of groups) {
      const tr = document.createElement("tr");
      for (const c of [g.group, g.expected, g.present]) { const td = document.createElement("td"); td.textContent = c; tr.append(td); }
      tbody.append(tr);
    }
  }

  let lastState = null;
  function apply(state) {
    lastState = state;
    rounds = Object.fromEntries(state.rounds.map((r) => [r.id, r]));
    document.querySelector('[data-k="expected"]').textContent = state.attendance.expected;
    document.querySelector('[data-k="present"]').textContent = state.attendance.present;
    renderGroups(state.attendance.groups || []);
    for (const k of ["printed", "issued", "void"]) document.querySelector(`[data-k="${k}"]`).textContent = state.cards[k];
    for (const r of state.rounds) {
      const tr = document.querySelector(`tr[data-round="${CSS.escape(r.id)}"]`);
      if (!tr) continue;
      const st = tr.querySelector(".status");
      st.dataset.status = r.status;
      st.textContent = t(r.status) + (r.revealed ? " · " + t("shown") : "");
      // A draft round shows how many of its electorate have signed in so far (its 实到 once opened).
      tr.querySelector(".turnout").textContent = r.status === "draft" && r.signed_in !== undefined
        ? `— / ${r.signed_in} (${t("signed_in")})` : `${r.cast} / ${r.present == null ? "—" : r.present}`;
      for (const b of tr.querySelectorAll("button[data-act]")) {
        const a = b.dataset.act;
        // 投影公布 stays enabled after a reveal: showing it again works as `tally rounds reveal` does.
        b.disabled = !((a === "open" && r.status === "draft" && r.kind !== "composite") || (a === "close" && r.status === "open") ||
          (a === "count" && (r.status === "closed" || (r.kind === "composite" && r.status === "draft"))) ||
          (a === "reveal" && r.status === "counted"));
        if (a === "reveal") b.textContent = t(r.revealed ? "show_again" : "show");
      }
      tr.querySelector(".sheet").hidden = r.status !== "counted";
    }
    renderKiosks(state.kiosks);
    state.rounds.filter((r) => r.kind === "score").forEach(renderJudging);
  }

  apply(JSON.parse(document.getElementById("state").textContent));
  const socket = io("/live", {transports: ["websocket"]});
  socket.on("state", apply);
})();
