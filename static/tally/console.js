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

  function askPassphrase() {
    const dlg = document.getElementById("passphrase-dialog");
    const input = document.getElementById("passphrase");
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
      if (act === "close" && !confirm(t("confirm_close"))) return;
      if (act === "count") {
        const status = btn.closest("tr").querySelector(".status").dataset.status;
        if (status === "closed") {
          const p = await askPassphrase();
          if (!p) return;
          body = {passphrase: p};
        }
      }
      const out = await call(`/api/v1/admin/rounds/${encodeURIComponent(id)}/${act}`, body);
      if (out && out.result) showResult(out);
    });
  });

  const R = window.ScrutineerResults(T);

  function showResult(r) {
    const box = document.getElementById("result-preview");
    box.textContent = "";
    box.append(R.el("h3", null, r.title), R.render(r, r.result));
  }

  // A kiosk's watch over the published boxes: per closed round, its receipts found, or a red
  // alarm naming each receipt the box does not hold.
  function boxWatch(k) {
    const td = document.createElement("td");
    td.className = "boxwatch";
    const rounds = (k.box && k.box.rounds) || {};
    const ids = Object.keys(rounds);
    if (!ids.length) { td.textContent = t("box_none"); td.classList.add("muted"); return td; }
    for (const id of ids) {
      const r = rounds[id];
      const line = document.createElement("div");
      if (!r.verified) {
        line.className = "alert";
        line.textContent = `${id}: ${t("box_unverified")}`;
      } else if (r.missing_total) {
        line.className = "alert";
        line.textContent = `${id}: ${r.missing_total} ${t("box_missing")}: `;
        for (const code of r.missing) {
          const c = document.createElement("code");
          c.textContent = code;
          line.append(c, " ");
        }
      } else {
        line.className = "msg ok";
        line.textContent = `${id}: ${r.held} ✓ ${t("box_ok")}`;
      }
      td.append(line);
    }
    if (k.box.alarm) td.classList.add("box-alarm");
    return td;
  }

  function renderKiosks(kiosks) {
    const tbody = document.querySelector("#kiosks tbody");
    tbody.textContent = "";
    for (const k of kiosks) {
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
      tr.append(boxWatch(k));
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
    if (!sec || !r.judging) return;
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

  function apply(state) {
    document.querySelector('[data-k="expected"]').textContent = state.attendance.expected;
    document.querySelector('[data-k="present"]').textContent = state.attendance.present;
    for (const k of ["printed", "issued", "void"]) document.querySelector(`[data-k="${k}"]`).textContent = state.cards[k];
    for (const r of state.rounds) {
      const tr = document.querySelector(`tr[data-round="${CSS.escape(r.id)}"]`);
      if (!tr) continue;
      const st = tr.querySelector(".status");
      st.dataset.status = r.status;
      st.textContent = t(r.status) + (r.revealed ? " · " + t("shown") : "");
      tr.querySelector(".turnout").textContent = `${r.cast} / ${r.present == null ? "—" : r.present}`;
      for (const b of tr.querySelectorAll("button[data-act]")) {
        const a = b.dataset.act;
        b.disabled = !((a === "open" && r.status === "draft") || (a === "close" && r.status === "open") ||
          (a === "count" && (r.status === "closed" || (r.kind === "composite" && r.status === "draft"))) ||
          (a === "reveal" && r.status === "counted" && !r.revealed));
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
