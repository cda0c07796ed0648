/* The kiosk's voter screens: welcome -> card -> one screen per open round -> review -> cast -> receipt.
 * A judge card instead turns the page into the seat's scoring pad (judge mode): it follows the
 * contest by polling /api/judge, and pad -> confirm -> cast -> locked for each contestant.
 * Choices live only in the DOM of this page and in memory; nothing goes to localStorage,
 * sessionStorage or cookies. After a cast (or a cancel, or an idle voter) the page wipes its
 * state and reloads itself, so the next voter finds nothing of the last one. A typed score is
 * shown on the locked screen for a few seconds, then wiped. */
(function () {
  "use strict";

  var S = JSON.parse(document.getElementById("kiosk-strings").textContent);
  var app = document.getElementById("app");
  var formVersion = app.dataset.form || "";
  var clearAfter = parseInt(app.dataset.clear, 10) || 8;
  var IDLE_MS = 180000;

  var session = null;   // token from /api/card: memory only
  var rounds = [];      // round <section>s this card may vote, in order
  var pos = -1;         // index into rounds; rounds.length means the review screen
  var stream = null;
  var scanTimer = null;
  var idleTimer = null;
  var busy = false;

  function fmt(text, vals) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in vals ? String(vals[k]) : m; });
  }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function show(el) {
    $all(".screen").forEach(function (s) { s.hidden = s !== el; });
    var voting = el.dataset.screen === "round" || el.dataset.screen === "review";
    $(".cancel-vote").hidden = !voting;
    $all(".message", el).forEach(function (m) { m.textContent = ""; });
    window.scrollTo(0, 0);
  }
  function screen(name) { return $('.screen[data-screen="' + name + '"]'); }

  function api(path, body) {
    var opts = { method: body ? "POST" : "GET", cache: "no-store", credentials: "same-origin",
                 headers: { "Accept": "application/json" } };
    if (body) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (doc) {
        return { ok: r.ok, status: r.status, doc: doc || {} };
      });
    }, function () { return { ok: false, status: 0, doc: {} }; });
  }
  function errorText(res) {
    return (res.doc && res.doc.error && res.doc.error.message) || S.offline;
  }
  function errorCode(res) { return (res.doc && res.doc.error && res.doc.error.code) || ""; }

  function fail(message) {
    stopCamera();
    $("#error-message").textContent = message;
    show(screen("error"));
  }

  // -- welcome ----------------------------------------------------------------------------
  function applyState(st) {
    if (st.form !== formVersion) { window.location.reload(); return; }
    var out = st.status === "pending" || st.status === "revoked";
    var wanted = out ? st.status : st.rounds ? (st.unlocked ? "unlocked" : "ready")
      : st.judging ? "judging" : "no-round";
    $all("#screen-welcome .state").forEach(function (el) { el.hidden = el.dataset.state !== wanted; });
  }
  function poll() {
    if (session || judge || screen("welcome").hidden) { return; }
    api("/api/state").then(function (res) { if (res.ok && !session) { applyState(res.doc); } });
  }

  // -- the card ---------------------------------------------------------------------------
  function startScan() {
    show(screen("scan"));
    var input = $("#card-input");
    input.value = "";
    input.focus();
    startCamera();
  }
  function startCamera() {
    var note = $("#camera-note");
    var video = $("#camera");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof jsQR !== "function") {
      note.textContent = S.no_camera; note.hidden = false; video.hidden = true; return;
    }
    // Until the camera answers (or the tablet asks for permission), say so instead of a black box.
    note.textContent = S.opening_camera; note.hidden = false; video.hidden = true;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      if (screen("scan").hidden) { s.getTracks().forEach(function (t) { t.stop(); }); return; }
      stream = s; video.srcObject = s; video.hidden = false; note.hidden = true;
      video.play().catch(function () {});
      scanTimer = window.setInterval(scanFrame, 200);
    }, function () { note.textContent = S.no_camera; note.hidden = false; video.hidden = true; });
  }
  function scanFrame() {
    var video = $("#camera");
    if (!video.videoWidth) { return; }
    var canvas = $("#camera-frame");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0);
    var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    var code = jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (code && code.data) { submitCard({ card: code.data }); }
  }
  function stopCamera() {
    if (scanTimer) { window.clearInterval(scanTimer); scanTimer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    var video = $("#camera"); video.srcObject = null;
  }
  function submitCard(body) {
    if (busy) { return; }
    busy = true;
    stopCamera();
    $("#card-input").value = "";
    show(screen("checking"));
    body.form = formVersion;
    api("/api/card", body).then(function (res) {
      busy = false;
      if (!res.ok) {
        if (errorCode(res) === "form_changed") { window.location.reload(); return; }
        fail(errorText(res));
        return;
      }
      beginVoting(res.doc);
    });
  }

  // -- the rounds -------------------------------------------------------------------------
  function beginVoting(doc) {
    if (doc.mode === "judge") { beginJudging(doc); return; }
    session = doc.session;
    $("#check-code").textContent = doc.check_code || "";
    $(".check-code").hidden = !doc.check_code;
    rounds = doc.rounds.map(function (id) { return document.getElementById("round-" + id); })
                       .filter(function (el) { return el; });
    if (!rounds.length) { fail(S.offline); return; }
    rounds.forEach(function (sec) { refreshCounters(sec); });
    pos = 0;
    showRound();
  }
  function showRound() {
    if (pos >= rounds.length) { buildReview(); show(screen("review")); return; }
    var sec = rounds[pos];
    $(".step", sec).textContent = fmt(S.step, { i: pos + 1, n: rounds.length });
    $('[data-action="back"]', sec).hidden = pos === 0;
    show(sec);
  }
  function say(sec, text) { $(".message", sec).textContent = text; }
  function pressed(root, sel) { return $all((sel || ".toggle") + '[aria-pressed="true"]', root); }
  function press(btn, on) { btn.setAttribute("aria-pressed", on ? "true" : "false"); }

  function refreshCounters(sec) {
    $all(".post", sec).forEach(function (post) {
      var n = pressed(post).length;
      $(".counter", post).textContent = fmt(S.selected, { n: n, m: post.dataset.seats });
    });
  }

  function onToggle(btn) {
    var sec = btn.closest(".round");
    if (!sec) { return; }
    var on = btn.getAttribute("aria-pressed") !== "true";
    say(sec, "");
    if (sec.dataset.kind === "recommend") {
      var post = btn.closest(".post");
      if (!on && btn.classList.contains("written")) { btn.remove(); refreshCounters(sec); return; }
      if (on && pressed(post).length >= parseInt(post.dataset.seats, 10)) {
        say(sec, fmt(S.at_most, { n: post.dataset.seats })); return;
      }
      press(btn, on);
      refreshCounters(sec);
      return;
    }
    if (sec.dataset.kind === "evaluate") {
      var group = btn.closest(".grades, .directions");
      if (on && btn.dataset.grade) {
        var quota = JSON.parse($(".quotas", sec).dataset.quota || "{}");
        var limit = quota[btn.dataset.grade];
        var taken = $all('.grades .toggle[aria-pressed="true"][data-grade]', sec)
          .filter(function (b) { return b.dataset.grade === btn.dataset.grade; }).length;
        if (limit !== undefined && taken >= limit) {
          say(sec, fmt(S.quota_full, { n: limit, grade: btn.dataset.grade })); return;
        }
      }
      pressed(group).forEach(function (b) { press(b, false); });
      press(btn, on);
      return;
    }
    if (sec.dataset.kind === "decide") {
      var seats = parseInt($(".decide", sec).dataset.seats, 10);
      if (on && btn.dataset.vote === "agree" && seats &&
          pressed(sec, '.toggle[data-vote="agree"]').length >= seats) {
        say(sec, fmt(S.at_most, { n: seats })); return;
      }
      pressed(btn.closest(".choices")).forEach(function (b) { press(b, false); });
      press(btn, on);
    }
  }

  function addWriteIn(btn) {
    var sec = btn.closest(".round");
    var post = btn.closest(".post");
    var input = $("input", btn.closest(".write-in"));
    var name = input.value.trim();
    say(sec, "");
    if (!name) { say(sec, S.empty_name); return; }
    var same = $all(".toggle", post).filter(function (b) { return b.dataset.name === name; })[0];
    if (same && same.getAttribute("aria-pressed") === "true") { say(sec, S.name_taken); return; }
    if (pressed(post).length >= parseInt(post.dataset.seats, 10)) {
      say(sec, fmt(S.at_most, { n: post.dataset.seats })); return;
    }
    if (same) { press(same, true); }
    else {
      var chip = document.createElement("button");
      chip.type = "button";
      chip.className = "toggle written";
      chip.dataset.name = name;
      chip.textContent = name + " (" + S.write_in + ")";
      press(chip, true);
      $(".choices", post).appendChild(chip);
    }
    input.value = "";
    refreshCounters(sec);
  }

  // -- review and cast --------------------------------------------------------------------
  function selection(sec) {
    var kind = sec.dataset.kind;
    if (kind === "recommend") {
      var sections = {};
      $all(".post", sec).forEach(function (post) {
        sections[post.dataset.post] = pressed(post).map(function (b) { return b.dataset.name; });
      });
      return { sections: sections };
    }
    if (kind === "evaluate") {
      var grades = {}, directions = {};
      $all(".subject", sec).forEach(function (f) {
        var g = pressed(f, ".grades .toggle")[0];
        var d = pressed(f, ".directions .toggle")[0];
        if (g) { grades[f.dataset.subject] = g.dataset.grade; }
        if (d) { directions[f.dataset.subject] = d.dataset.direction; }
      });
      return { grades: grades, directions: directions };
    }
    var votes = {};
    $all(".nominee", sec).forEach(function (f) {
      var v = pressed(f)[0];
      if (v) { votes[f.dataset.nominee] = v.dataset.vote; }
    });
    return { votes: votes };
  }

  function line(list, label, value, blank) {
    var row = document.createElement("div");
    row.className = "review-row" + (blank ? " blank" : "");
    var a = document.createElement("span"); a.className = "label"; a.textContent = label;
    var b = document.createElement("span"); b.className = "value"; b.textContent = value;
    row.appendChild(a); row.appendChild(b); list.appendChild(row);
    return blank;
  }

  function buildReview() {
    var list = $("#review-list");
    list.textContent = "";
    var marked = false;
    rounds.forEach(function (sec) {
      var box = document.createElement("section");
      box.className = "review-round";
      var h = document.createElement("h3"); h.textContent = sec.dataset.title; box.appendChild(h);
      if (sec.dataset.kind === "recommend") {
        $all(".post", sec).forEach(function (post) {
          var names = pressed(post).map(function (b) { return b.textContent; });
          if (names.length) { marked = true; }
          line(box, post.dataset.title, names.length ? names.join("、") : S.blank_section, !names.length);
        });
      } else if (sec.dataset.kind === "evaluate") {
        $all(".subject", sec).forEach(function (f) {
          var g = pressed(f, ".grades .toggle")[0];
          var d = pressed(f, ".directions .toggle")[0];
          if (g || d) { marked = true; }
          var text = g ? g.textContent : S.not_graded;
          if ($(".directions", f)) { text += " / " + (d ? d.textContent : S.no_direction); }
          line(box, f.dataset.subject, text, !g);
        });
      } else {
        $all(".nominee", sec).forEach(function (f) {
          var v = pressed(f)[0];
          if (v) { marked = true; }
          line(box, f.dataset.nominee, v ? v.textContent : S.not_voted, !v);
        });
      }
      list.appendChild(box);
    });
    var note = $("#review-blank");
    note.textContent = marked ? "" : S.all_blank;
    note.hidden = marked;
  }

  function castBallot() {
    if (busy || !session) { return; }
    busy = true;
    var body = { session: session, rounds: {} };
    rounds.forEach(function (sec) { body.rounds[sec.dataset.round] = selection(sec); });
    var btn = $('[data-action="cast"]'); btn.disabled = true;
    api("/api/cast", body).then(function (res) {
      busy = false; btn.disabled = false;
      body = null;
      if (!res.ok) {
        var code = errorCode(res);
        if (res.status === 400 && code !== "malformed") { say(screen("review"), errorText(res)); return; }
        wipe(); fail(errorText(res)); return;
      }
      wipe();
      var ul = $("#receipts");
      (res.doc.receipts || []).forEach(function (c) {
        var li = document.createElement("li"); li.textContent = c; ul.appendChild(li);
      });
      show(screen("done"));
      var left = res.doc.clear_after || clearAfter;
      var tick = function () {
        $("#clears-in").textContent = fmt(S.clears_in, { s: left });
        if (left-- <= 0) { finish(); } else { window.setTimeout(tick, 1000); }
      };
      tick();
    });
  }

  // Forget every choice: the next voter must find nothing, even before the reload.
  function wipe() {
    session = null; rounds = []; pos = -1;
    $all(".round .toggle.written").forEach(function (b) { b.remove(); });
    $all(".round .toggle").forEach(function (b) { press(b, false); });
    $all(".round input").forEach(function (i) { i.value = ""; });
    $all(".round .message").forEach(function (m) { m.textContent = ""; });
    $("#review-list").textContent = "";
    $("#check-code").textContent = "";
    $(".check-code").hidden = true;
  }
  function finish() {
    wipe();
    wipeJudge();
    stopCamera();
    $("#receipts").textContent = "";
    window.location.replace("/");
  }
  function cancel() {
    var token = session;
    wipe();
    if (token) { api("/api/cancel", { session: token }).then(finish); } else { finish(); }
  }

  // -- judge mode -------------------------------------------------------------------------
  var judge = null;       // {session, contestant, text, step: "pad"|"confirm"}: memory only
  var judgeTimer = null;
  var echoTimer = null;
  var exitTimer = null;
  var judgePlan = { min: "0", max: "100", step: "1", decimals: 0 };

  function beginJudging(doc) {
    judge = { session: doc.session, contestant: null, text: "", step: "pad" };
    show(screen("judge"));
    renderJudge(doc);
    judgeTimer = window.setInterval(pollJudge, 1000);
  }
  function panel(name) {
    $all(".judge-panel").forEach(function (p) { p.hidden = p.dataset.panel !== name; });
    var active = $('.judge-panel[data-panel="' + name + '"]');
    $all(".message", active).forEach(function (m) { m.textContent = ""; });
    return active;
  }
  function judgeNotice(active, notice) {
    $all(".judge-notice").forEach(function (n) { n.hidden = true; n.textContent = ""; });
    var box = active && $(".judge-notice", active);
    if (!box || !notice) { return; }
    box.textContent = notice.kind === "rejected" ? S.rejected + " " + notice.message : notice.message;
    box.className = "judge-notice " + notice.kind;
    box.hidden = false;
  }
  function currentPanel() {
    var p = $all(".judge-panel").filter(function (x) { return !x.hidden; })[0];
    return p ? p.dataset.panel : "";
  }
  function renderJudge(doc) {
    if (!judge) { return; }
    $("#judge-label").textContent = doc.label || "";
    $("#judge-round").textContent = (doc.round && doc.round.title) || "";
    $("#judge-offline").hidden = doc.online !== false;
    if (doc.round && doc.round.step) { judgePlan = doc.round; }
    $("#key-point").disabled = !judgePlan.decimals;
    if (doc.screen === "pad") {
      if (judge.contestant !== doc.contestant) {  // a new contestant: nothing typed carries over
        judge.contestant = doc.contestant; judge.text = ""; judge.step = "pad";
      }
      $("#pad-contestant").textContent = doc.contestant;
      $("#pad-range").textContent = fmt(S.judge_range, judgePlan);
      var want = judge.step === "confirm" ? "confirm" : "pad";
      if (currentPanel() !== want) { panel(want); }
      judgeNotice($('.judge-panel[data-panel="pad"]'), doc.notice);
      showTyped();
      return;
    }
    judge.contestant = doc.contestant; judge.text = ""; judge.step = "pad";
    showTyped();  // off the pad, nothing typed stays in the page
    $("#confirm-text").textContent = "";
    if (doc.screen === "locked") {
      if (currentPanel() !== "locked") { panel("locked"); }
      $("#locked-contestant").textContent = doc.contestant || "";
      $("#locked-detail").textContent = doc.locked === "received" ? S.locked_received : S.locked_sending;
      judgeNotice(null, null);
    } else if (doc.screen === "closed") {
      panel("closed"); judgeNotice(null, null);
    } else {
      if (currentPanel() !== "waiting") { panel("waiting"); }
      judgeNotice($('.judge-panel[data-panel="waiting"]'), doc.notice);
    }
  }
  function pollJudge() {
    if (!judge || busy) { return; }
    var token = judge.session;
    api("/api/judge", { session: token }).then(function (res) {
      if (!judge || busy || judge.session !== token) { return; }
      if (res.ok) { renderJudge(res.doc); return; }
      if (errorCode(res) === "no_session") { finish(); return; }
      $("#judge-offline").hidden = false;
    });
  }
  function showTyped() {
    var d = $("#pad-display");
    d.textContent = judge.text || "—";
    d.classList.toggle("empty", !judge.text);
  }
  function padSay(text) { $('.judge-panel[data-panel="pad"] .message').textContent = text; }

  // Scores are compared in whole units of the step's last decimal: no floating point.
  function units(text, d) {
    var parts = String(text).replace(/^-/, "").split(".");
    var frac = (parts[1] || "").padEnd(d, "0");
    var n = parseInt(parts[0] + frac, 10);
    return String(text).charAt(0) === "-" ? -n : n;
  }
  function checkTyped(text) {
    var p = judgePlan, d = p.decimals || 0;
    if (!text || text === ".") { return S.pad_empty; }
    if (!/^[0-9]+(\.[0-9]*)?$/.test(text)) { return S.pad_empty; }
    var frac = (text.split(".")[1] || "");
    if (frac.length > d) { return d ? fmt(S.pad_decimals, { n: d }) : S.pad_whole; }
    var v = units(text, d), lo = units(p.min, d), hi = units(p.max, d), st = units(p.step, d);
    if (v < lo || v > hi) { return fmt(S.pad_range, p); }
    if ((v - lo) % st !== 0) { return fmt(S.pad_step, p); }
    return "";
  }
  function press_key(key) {
    if (!judge || judge.step !== "pad") { return; }
    var t = judge.text, d = judgePlan.decimals || 0;
    padSay("");
    if (key === "clear") { t = ""; }
    else if (key === "back") { t = t.slice(0, -1); }
    else if (key === ".") {
      if (!d || t.indexOf(".") >= 0) { return; }
      t = (t || "0") + ".";
    } else {
      var frac = t.indexOf(".") >= 0 ? t.split(".")[1] : null;
      if (frac !== null && frac.length >= d) { padSay(fmt(S.pad_decimals, { n: d })); return; }
      if (frac === null && t.replace(/^0+/, "").length >= 6) { padSay(S.pad_long); return; }
      t = t === "0" ? key : t + key;
    }
    judge.text = t;
    showTyped();
    // Say at once when the number is already past the top of the range.
    if (t && t !== "." && units(t.replace(/\.$/, ""), d) > units(judgePlan.max, d)) { padSay(fmt(S.pad_range, judgePlan)); }
  }
  function reviewScore() {
    if (!judge) { return; }
    var text = judge.text.replace(/\.$/, "");
    var problem = checkTyped(text);
    if (problem) { padSay(problem); return; }
    judge.text = text;
    judge.step = "confirm";
    $("#confirm-text").textContent = fmt(S.confirm_score, { contestant: judge.contestant, score: text });
    panel("confirm");
  }
  function backToPad() {
    if (!judge) { return; }
    judge.step = "pad";
    $("#confirm-text").textContent = "";
    panel("pad");
    showTyped();
  }
  function confirmScore() {
    if (busy || !judge || judge.step !== "confirm") { return; }
    busy = true;
    var btn = $('[data-action="judge-confirm"]'); btn.disabled = true;
    var value = judge.text;
    api("/api/judge/score", { session: judge.session, contestant: judge.contestant, score: value }).then(function (res) {
      busy = false; btn.disabled = false;
      $("#confirm-text").textContent = "";
      if (!judge) { return; }
      if (!res.ok) {
        var code = errorCode(res);
        if (code === "no_session") { fail(errorText(res)); judge = null; return; }
        judge.step = "pad";
        panel("pad");
        showTyped();
        padSay(errorText(res));
        pollJudge();
        return;
      }
      judge.text = ""; judge.step = "pad";
      renderJudge(res.doc);
      // The value is shown once, briefly, then wiped from the page.
      $("#locked-echo").textContent = fmt(S.your_score, { score: value });
      value = null;
      if (echoTimer) { window.clearTimeout(echoTimer); }
      echoTimer = window.setTimeout(function () { $("#locked-echo").textContent = ""; }, 3000);
    });
  }
  function exitJudge(btn) {
    if (!btn.classList.contains("armed")) {
      btn.dataset.label = btn.textContent;
      btn.textContent = S.exit_again;
      btn.classList.add("armed");
      exitTimer = window.setTimeout(function () {
        btn.textContent = btn.dataset.label; btn.classList.remove("armed");
      }, 4000);
      return;
    }
    var token = judge && judge.session;
    wipeJudge();
    if (token) { api("/api/judge/exit", { session: token }).then(finish); } else { finish(); }
  }
  function wipeJudge() {
    if (judgeTimer) { window.clearInterval(judgeTimer); judgeTimer = null; }
    if (echoTimer) { window.clearTimeout(echoTimer); echoTimer = null; }
    if (exitTimer) { window.clearTimeout(exitTimer); exitTimer = null; }
    judge = null;
    $("#pad-display").textContent = "";
    $("#confirm-text").textContent = "";
    $("#locked-echo").textContent = "";
  }

  // -- wiring -----------------------------------------------------------------------------
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn || btn.disabled) { return; }
    var action = btn.dataset.action;
    if (action === "start") { startScan(); }
    else if (action === "use-unlock") { submitCard({ unlock: true }); }
    else if (action === "submit-card") { typedCard(); }
    else if (action === "cancel") { cancel(); }
    else if (action === "next") { pos += 1; showRound(); }
    else if (action === "back") { pos = Math.max(0, pos - 1); showRound(); }
    else if (action === "add-write-in") { addWriteIn(btn); }
    else if (action === "cast") { castBallot(); }
    else if (action === "finish") { finish(); }
    else if (action === "judge-review") { reviewScore(); }
    else if (action === "judge-back") { backToPad(); }
    else if (action === "judge-confirm") { confirmScore(); }
    else if (action === "judge-exit") { exitJudge(btn); }
    else if (btn.dataset.key) { press_key(btn.dataset.key); }
    else if (btn.classList.contains("toggle")) { onToggle(btn); }
  });
  function typedCard() {
    var text = $("#card-input").value.trim();
    if (text) { submitCard({ card: text }); }
  }
  $("#card-input").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); typedCard(); }
  });
  $all(".write-in input").forEach(function (input) {
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); addWriteIn($(".add", input.parentNode)); }
    });
  });
  // A USB scanner types into whatever has focus: on the welcome screen, send it to the card field.
  document.addEventListener("keydown", function (ev) {
    if (screen("welcome").hidden || ev.key.length !== 1 || ev.ctrlKey || ev.metaKey) { return; }
    if ($('#screen-welcome .state[data-state="ready"]').hidden &&
        $('#screen-welcome .state[data-state="judging"]').hidden) { return; }
    startScan();
  }, true);
  // A keyboard works on the judge's pad too (digits, point, Backspace, Escape, Enter).
  document.addEventListener("keydown", function (ev) {
    if (!judge || screen("judge").hidden || ev.ctrlKey || ev.metaKey) { return; }
    if (judge.step === "pad") {
      if (/^[0-9.]$/.test(ev.key)) { press_key(ev.key); }
      else if (ev.key === "Backspace") { press_key("back"); }
      else if (ev.key === "Escape") { press_key("clear"); }
      else if (ev.key === "Enter") { reviewScore(); }
      else { return; }
      ev.preventDefault();
    }
  });
  function resetIdle() {
    if (idleTimer) { window.clearTimeout(idleTimer); }
    idleTimer = window.setTimeout(function () { if (session || !screen("scan").hidden) { cancel(); } }, IDLE_MS);
  }
  ["pointerdown", "keydown"].forEach(function (t) { document.addEventListener(t, resetIdle, true); });
  resetIdle();
  window.setInterval(poll, 3000);
  poll();
  app.dataset.ready = "1";  // for tests and for staff: the screens answer from here on
})();
