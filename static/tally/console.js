// Chair console: actions through the JSON API (session cookie + CSRF header), live state over Socket.IO.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const t = (k) => T[k] || k;

  async function call(path, body, refused) {
    const resp = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {}),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      if (refused && data.error && refused(data.error)) return null;
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

  // A count that found the box is not the one the round closed with (box_tampered): a red panel
  // under the rounds, naming everything wrong, that stays until a count succeeds.
  const refusal = document.getElementById("box-refusal");
  function showRefusal(error) {
    if (error.code !== "box_tampered") return false;
    const details = error.details || [];
    // The message ends with the first problem, which the list shows anyway.
    let headline = error.message;
    if (details.length && headline.endsWith(details[0])) headline = headline.slice(0, -details[0].length).trim();
    document.getElementById("box-refusal-msg").textContent = headline;
    const list = document.getElementById("box-refusal-list");
    list.textContent = "";
    for (const line of details) {
      const li = document.createElement("li");
      li.textContent = line;
      list.append(li);
    }
    refusal.hidden = false;
    refusal.scrollIntoView({block: "nearest"});
    return true;
  }

  // The count of a secret round: k scrutineers give their shares (scanned by camera or a USB
  // scanner that types, or typed). Each is checked on the tally as it comes; the dialog shows
  // whose shares are in, never a share; when the count ends, for whatever reason, the shares
  // are forgotten: the map is cleared, the field emptied, the camera stopped. Nothing is stored.
  const CUSTODY = JSON.parse(document.getElementById("custody-json").textContent);
  const shareDialog = document.getElementById("count-dialog");
  const shareInput = document.getElementById("share-input");
  const shareMsg = document.getElementById("share-msg");
  const given = new Map();   // scrutineer number -> share text, only while the dialog is open
  let countRound = null;
  let camera = null;
  let scanTimer = null;
  let lastScan = "";

  function renderShares() {
    const list = document.getElementById("share-given");
    list.textContent = "";
    for (let i = 1; i <= CUSTODY.scrutineers; i++) {
      const li = document.createElement("li");
      li.dataset.scrutineer = String(i);
      li.className = given.has(i) ? "given" : "";
      li.textContent = `${t("scrutineer")} ${i}: ` + (given.has(i) ? "✔ " + t("share_given") : t("share_waiting"));
      list.append(li);
    }
    document.getElementById("share-need").textContent = `${t("shares_needed")}: ${given.size} / ${CUSTODY.quorum}`;
    document.getElementById("share-count").disabled = given.size < CUSTODY.quorum;
  }

  function stopCamera() {
    if (scanTimer) { clearInterval(scanTimer); scanTimer = null; }
    if (camera) { camera.getTracks().forEach((tr) => tr.stop()); camera = null; }
    const video = document.getElementById("share-video");
    video.srcObject = null;
    video.hidden = true;
  }

  function forgetShares() {
    given.clear();
    shareInput.value = "";
    lastScan = "";
    shareMsg.textContent = "";
    stopCamera();
  }

  // A share of another round or meeting never leaves the page: a camera that sees a whole sheet
  // reads every round's QR code, and the tally must get only the round it counts.
  function foreignShare(text) {
    const parts = text.replace(/\s/g, "").split(".");
    if (parts.length !== 5 || parts[0].toUpperCase() !== "SCRS1") return null;  // the tally says what is wrong
    if (parts[1].toLowerCase() !== CUSTODY.meeting) return "share_other_meeting";
    return parts[2] === countRound ? null : "share_other_round";
  }

  async function offerShare(text) {
    text = String(text || "").trim();
    if (!text || countRound === null) return;
    const foreign = foreignShare(text);
    if (foreign) {
      shareMsg.className = "msg bad";
      shareMsg.textContent = t(foreign);
      return;
    }
    const resp = await fetch(`/api/v1/admin/rounds/${encodeURIComponent(countRound)}/shares/check`, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({share: text}),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      shareMsg.className = "msg bad";
      shareMsg.textContent = (data.error && data.error.message) || resp.statusText;
      return;
    }
    given.set(data.scrutineer, text);
    shareMsg.className = "msg ok";
    shareMsg.textContent = `${t("scrutineer")} ${data.scrutineer}: ✔ ${t("share_given")}`;
    renderShares();
  }

  shareInput.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault();  // Enter from a USB scanner must not submit the dialog
    const text = shareInput.value;
    shareInput.value = "";
    offerShare(text);
  });

  document.getElementById("share-camera").addEventListener("click", async () => {
    if (camera) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof jsQR !== "function") {
      shareMsg.textContent = t("no_camera");
      return;
    }
    try {
      camera = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
    } catch (e) {
      shareMsg.textContent = t("no_camera");
      return;
    }
    const video = document.getElementById("share-video");
    video.srcObject = camera;
    video.hidden = false;
    video.play().catch(() => {});
    scanTimer = setInterval(() => {
      if (!video.videoWidth) return;
      const canvas = document.getElementById("share-frame");
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      const ctx = canvas.getContext("2d", {willReadFrequently: true});
      ctx.drawImage(video, 0, 0);
      const code = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height,
                        {inversionAttempts: "attemptBoth"});
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      if (code && code.data && code.data !== lastScan) { lastScan = code.data; offerShare(code.data); }
    }, 200);
  });

  function askShares(roundId, title) {
    forgetShares();
    countRound = roundId;
    document.getElementById("count-round").textContent = title;
    document.getElementById("count-turnout").textContent = turnoutText(rounds[roundId]);
    renderShares();
    return new Promise((resolve) => {
      shareDialog.onclose = () => {
        const shares = shareDialog.returnValue === "ok" ? [...given.values()] : null;
        forgetShares();
        countRound = null;
        resolve(shares);
      };
      shareDialog.showModal();
      shareInput.focus();
    });
  }

  document.querySelectorAll("#rounds button[data-act]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const tr = btn.closest("tr");
      const id = tr.dataset.round;
      const act = btn.dataset.act;
      let body = {};
      if (act === "close" && !confirm(turnoutText(rounds[id]) + "\n" + t("confirm_close"))) return;
      if (act === "count" && tr.dataset.secret === "1") {
        const shares = await askShares(id, tr.querySelector("b").textContent);
        if (!shares) return;
        body = {shares: shares};
      }
      const out = await call(`/api/v1/admin/rounds/${encodeURIComponent(id)}/${act}`, body,
                             act === "count" ? showRefusal : null);
      body = null;  // the shares go with the request and nowhere else
      if (out && act === "count") refusal.hidden = true;
      if (out && out.view) showResult(out);
    });
  });

  // The scrutineers' card list: import (until a round opens), void left-overs, desk unlocks.
  document.getElementById("cards-import").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const resp = await fetch("/api/v1/admin/cards/import", {method: "POST", body: new FormData(ev.target),
                                                           headers: {"X-CSRF-Token": csrf}});
    const data = await resp.json().catch(() => ({}));
    alert(resp.ok ? `${t("card_list_imported")}: ${data.cards} · ${data.fingerprint}` : (data.error && data.error.message));
    if (resp.ok) document.getElementById("card-list-fp").textContent = data.fingerprint;
  });

  document.getElementById("cards-void").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const area = ev.target.elements.codes;
    const lines = area.value.split(/\r?\n/).map((x) => x.trim()).filter(Boolean);
    if (!lines.length) return;
    // A card's code holds its secret: it never leaves this page for the tally (only void lines do).
    if (!lines.every((x) => /^SCRV1\./.test(x))) { area.value = ""; alert(t("not_void_lines")); return; }
    if (!confirm(t("confirm_void"))) return;
    const out = await call("/api/v1/admin/cards/void", {lines: lines});
    if (!out) return;
    area.value = "";
    alert(`${t("cards_voided")}: ${out.voided} · ${t("already_void")}: ${out.already_void} · ` +
          `${t("unknown_cards")}: ${out.unknown} · ${t("used_cards")}: ${out.used}`);
  });

  document.getElementById("desk-unlock").addEventListener("change", async (ev) => {
    const out = await call("/api/v1/admin/settings", {desk_unlock: ev.target.checked});
    if (!out) { ev.target.checked = !ev.target.checked; return; }
    alert(t(out.desk_unlock ? "desk_unlock_on" : "desk_unlock_off"));
  });

  const R = window.ScrutineerResults(T);

  // The counted result, as the projector and the sheet show it (the same view).
  function showResult(r) {
    const box = document.getElementById("result-preview");
    box.textContent = "";
    box.append(R.el("h3", null, r.title), R.render(r.view));
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
    for (const k of ["listed", "void", "desk"]) document.querySelector(`[data-k="${k}"]`).textContent = state.cards[k];
    document.getElementById("cards-import").hidden = !!state.card_list_frozen;
    if (state.card_list) document.getElementById("card-list-fp").textContent = state.card_list.fingerprint;
    document.getElementById("desk-unlock").checked = !!state.desk_unlock;
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
  document.body.dataset.ready = "1";  // every handler is attached: the page takes clicks
  const socket = io("/live", {transports: ["websocket"]});
  socket.on("state", apply);
})();
