// Check-in desk: find by name or number, sign in, hand out cards, unlock a kiosk.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const msg = document.getElementById("msg");
  const say = (text, bad) => { msg.textContent = text; msg.className = "msg " + (bad ? "bad" : "ok"); };

  async function call(path, body) {
    const resp = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body)});
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { say((data.error && data.error.message) || resp.statusText, true); return null; }
    return data;
  }

  // 应到/实到 on the roster, and per electorate (a unit of a meeting of several units).
  function totals(t) {
    document.getElementById("expected").textContent = t.expected;
    document.getElementById("present").textContent = t.present;
    const box = document.getElementById("electorates");
    const groups = t.groups || [];
    box.hidden = !groups.length;
    const tbody = box.querySelector("tbody");
    tbody.textContent = "";
    for (const g of groups) {
      const tr = document.createElement("tr");
      for (const c of [g.group, g.expected, g.present]) { const td = document.createElement("td"); td.textContent = c; tr.append(td); }
      tbody.append(tr);
    }
  }

  async function search() {
    const q = document.getElementById("q").value.trim();
    const tbody = document.querySelector("#found tbody");
    tbody.textContent = "";
    if (!q) return;
    const resp = await fetch("/api/v1/desk/search?q=" + encodeURIComponent(q));
    const data = await resp.json();
    totals(data.totals);
    if (!data.attendees.length) { say(T.none, true); return; }
    for (const a of data.attendees) {
      const tr = document.createElement("tr");
      for (const c of [a.number, a.name, a.group, a.checked_in ? "✔ " + T.signed_in : ""]) { const td = document.createElement("td"); td.textContent = c; tr.append(td); }
      const td = document.createElement("td");
      const b = document.createElement("button");
      b.className = a.checked_in ? "" : "primary";
      b.textContent = a.checked_in ? T.cancel_sign_in : T.sign_in;
      b.addEventListener("click", async () => {
        const out = await call("/api/v1/desk/signin", {number: a.number, present: !a.checked_in});
        if (out) { totals(out.totals); say(`${a.name}: ${a.checked_in ? T.sign_in_cancelled : T.signed_in}`); document.getElementById("q").value = ""; tbody.textContent = ""; document.getElementById("q").focus(); }
      });
      td.append(b); tr.append(td); tbody.append(tr);
    }
    if (data.attendees.length === 1 && !data.attendees[0].checked_in) tbody.querySelector("button").focus();
  }

  document.getElementById("q").addEventListener("keydown", (e) => { if (e.key === "Enter") search(); });
  async function kiosks() {
    const resp = await fetch("/api/v1/desk/kiosks");
    if (!resp.ok) return;
    const sel = document.getElementById("kiosk");
    sel.textContent = "";
    for (const k of (await resp.json()).kiosks) { const o = document.createElement("option"); o.value = k.id; o.textContent = k.name; sel.append(o); }
  }
  const unlock = document.getElementById("unlock");
  if (unlock) {  // only where the chair allows desk unlocks
    unlock.addEventListener("click", async () => {
      const out = await call("/api/v1/desk/unlock", {kiosk: document.getElementById("kiosk").value});
      if (out) say(T.unlocked);
    });
    kiosks();
  }
})();
