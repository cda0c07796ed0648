/* Judge mode: a judge card scanned on the card screen turns the page into the seat's scoring pad.
 * It follows the contest by polling /api/judge, and pad -> confirm -> cast -> locked for each
 * contestant. A typed score is shown on the locked screen for a few seconds, then wiped; nothing
 * typed survives leaving the pad. Needs common.js. */
(function () {
  "use strict";

  var K = window.Kiosk, S = K.S, $ = K.$, $all = K.$all, fmt = K.fmt;

  var judge = null;       // {session, contestant, text, step: "pad"|"confirm"}: memory only
  var judgeTimer = null;
  var echoTimer = null;
  var exitTimer = null;
  var busy = false;
  var judgePlan = { min: "0", max: "100", step: "1", decimals: 0 };

  function beginJudging(doc) {
    judge = { session: doc.session, contestant: null, text: "", step: "pad" };
    K.arrive("judge");
    K.show(K.screen("judge"));
    renderJudge(doc);
    judgeTimer = window.setInterval(pollJudge, 1000);
  }
  function forget() { judge = null; K.leave("judge"); }

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
    K.api("/api/judge", { session: token }).then(function (res) {
      if (!judge || busy || judge.session !== token) { return; }
      if (res.ok) { renderJudge(res.doc); return; }
      if (K.errorCode(res) === "no_session") { K.finish(); return; }
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
  function pressKey(key) {
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
    K.api("/api/judge/score", { session: judge.session, contestant: judge.contestant, score: value }).then(function (res) {
      busy = false; btn.disabled = false;
      $("#confirm-text").textContent = "";
      if (!judge) { return; }
      if (!res.ok) {
        var code = K.errorCode(res);
        if (code === "no_session") { K.fail(K.errorText(res)); forget(); return; }
        judge.step = "pad";
        panel("pad");
        showTyped();
        padSay(K.errorText(res));
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
    if (token) { K.api("/api/judge/exit", { session: token }).then(K.finish); } else { K.finish(); }
  }
  function wipeJudge() {
    if (judgeTimer) { window.clearInterval(judgeTimer); judgeTimer = null; }
    if (echoTimer) { window.clearTimeout(echoTimer); echoTimer = null; }
    if (exitTimer) { window.clearTimeout(exitTimer); exitTimer = null; }
    forget();
    $("#pad-display").textContent = "";
    $("#confirm-text").textContent = "";
    $("#locked-echo").textContent = "";
  }

  // The page is ready (main.js): a keyboard works on the pad too (digits, point, Backspace,
  // Escape, Enter).
  function start() {
    document.addEventListener("keydown", function (ev) {
      if (!judge || K.screen("judge").hidden || ev.ctrlKey || ev.metaKey) { return; }
      if (judge.step === "pad") {
        if (/^[0-9.]$/.test(ev.key)) { pressKey(ev.key); }
        else if (ev.key === "Backspace") { pressKey("back"); }
        else if (ev.key === "Escape") { pressKey("clear"); }
        else if (ev.key === "Enter") { reviewScore(); }
        else { return; }
        ev.preventDefault();
      }
    });
  }

  K.register({
    name: "judge",
    actions: {
      "judge-key": function (btn) { pressKey(btn.dataset.key); },
      "judge-review": function () { reviewScore(); },
      "judge-back": function () { backToPad(); },
      "judge-confirm": function () { confirmScore(); },
      "judge-exit": function (btn) { exitJudge(btn); }
    },
    begin: beginJudging,
    wipe: wipeJudge,
    start: start
  });
})();
