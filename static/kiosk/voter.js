/* The voter's screens: welcome -> card -> one screen per open round -> review -> cast -> receipt.
 * The welcome and card screens are the kiosk's front door: a judge card scanned here hands the
 * page to judge.js (Kiosk.enter). After a cast (or a cancel, or an idle voter) the page wipes its
 * state and reloads itself, so the next voter finds nothing of the last one. Needs common.js. */
(function () {
  "use strict";

  var K = window.Kiosk, S = K.S, $ = K.$, $all = K.$all, fmt = K.fmt, show = K.show, screen = K.screen;
  var app = document.getElementById("app");
  var formVersion = app.dataset.form || "";
  var clearAfter = parseInt(app.dataset.clear, 10) || 8;

  var session = null;   // token from /api/card: memory only
  var rounds = [];      // round <section>s this card may vote, in order
  var pos = -1;         // index into rounds; rounds.length means the review screen
  var page = 0;         // the page shown of the current round (a long ballot is split into pages)
  var pages = [];       // the current round's pages: lists of its fieldsets
  var busy = false;
  // Control, format (a bidi override), unassigned and private characters, lone surrogates, line breaks.
  var NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
  var MAX_WRITE_IN = 32;

  // -- welcome ----------------------------------------------------------------------------
  function applyState(st) {
    if (st.form !== formVersion) { window.location.reload(); return; }
    var out = st.status === "pending" || st.status === "revoked";
    var wanted = out ? st.status : st.rounds ? (st.unlocked ? "unlocked" : "ready")
      : st.judging ? "judging" : "no-round";
    $all("#screen-welcome .state").forEach(function (el) { el.hidden = el.dataset.state !== wanted; });
  }
  function poll() {
    if (K.who() || screen("welcome").hidden) { return; }
    K.api("/api/state").then(function (res) { if (res.ok && !session) { applyState(res.doc); } });
  }

  // -- the card ---------------------------------------------------------------------------
  function startScan() {
    show(screen("scan"));
    var input = $("#card-input");
    input.value = "";
    input.focus();
    K.startCamera(function (code) { submitCard({ card: code }); });
  }
  function submitCard(body) {
    if (busy) { return; }
    busy = true;
    K.stopCamera();
    $("#card-input").value = "";
    show(screen("checking"));
    body.form = formVersion;
    K.api("/api/card", body).then(function (res) {
      busy = false;
      if (!res.ok) {
        if (K.errorCode(res) === "form_changed") { window.location.reload(); return; }
        K.fail(K.errorText(res));
        return;
      }
      K.enter(res.doc);
    });
  }
  function typedCard() {
    var text = $("#card-input").value.trim();
    if (text) { submitCard({ card: text }); }
  }

  // -- the rounds -------------------------------------------------------------------------
  function beginVoting(doc) {
    session = doc.session;
    if (session) { K.arrive("voter"); }
    $("#check-code").textContent = doc.check_code || "";
    $(".check-code").hidden = !doc.check_code;
    rounds = doc.rounds.map(function (id) { return document.getElementById("round-" + id); })
                       .filter(function (el) { return el; });
    if (!rounds.length) { K.fail(S.offline); return; }
    rounds.forEach(function (sec) { refreshCounters(sec); });
    pos = 0;
    showRound();
  }
  function showRound(last) {
    if (pos >= rounds.length) { buildReview(); show(screen("review")); return; }
    var sec = rounds[pos];
    show(sec);
    pages = paginate(sec);
    showPage(sec, last ? pages.length - 1 : 0);
  }

  // No choice may sit below the fold under the sticky Next bar (a third post, a tenth person on
  // a 1280x800 tablet): the round's fieldsets are laid out into pages that each fit the screen.
  function paginate(sec) {
    var groups = $all("fieldset", sec);
    groups.forEach(function (g) { g.hidden = false; });
    if (!groups.length) { return [[]]; }
    var bar = $(".steps", sec).getBoundingClientRect();
    var msg = $(".message", sec).offsetHeight;
    var limit = Math.min(window.innerHeight, bar.top + window.scrollY) - msg - 8;
    var top = groups[0].getBoundingClientRect().top + window.scrollY;
    var gap = parseFloat(getComputedStyle(sec).rowGap) || 0;
    var out = [[]], used = top;
    groups.forEach(function (g) {
      var h = g.getBoundingClientRect().height + gap;
      if (out[out.length - 1].length && used + h > limit) { out.push([]); used = top; }
      out[out.length - 1].push(g);
      used += h;
    });
    return out;
  }

  function showPage(sec, i) {
    page = Math.max(0, Math.min(i, pages.length - 1));
    pages.forEach(function (list, k) { list.forEach(function (g) { g.hidden = k !== page; }); });
    var step = fmt(S.step, { i: pos + 1, n: rounds.length });
    if (pages.length > 1) { step += " · " + fmt(S.page, { p: page + 1, m: pages.length }); }
    $(".step", sec).textContent = step;
    $('[data-action="back"]', sec).hidden = pos === 0 && page === 0;
    window.scrollTo(0, 0);
  }

  function next() {
    if (pos < rounds.length && page < pages.length - 1) { showPage(rounds[pos], page + 1); return; }
    pos += 1; showRound(false);
  }
  function back() {
    if (pos < rounds.length && page > 0) { showPage(rounds[pos], page - 1); return; }
    pos = Math.max(0, pos - 1); showRound(true);
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
    // The kiosk agent's rule of what a name is (kiosk/ballots.py): printable characters only.
    if (NOT_PRINTABLE.test(name)) { say(sec, S.bad_name); return; }
    if (name.length > MAX_WRITE_IN) { say(sec, S.name_too_long); return; }
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
      chip.dataset.action = "toggle";
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
    var unmarked = [];  // [round title, [what]] for the summary at the top of the review
    function blank(sec, what) {
      var last = unmarked[unmarked.length - 1];
      if (!last || last[0] !== sec.dataset.title) { last = [sec.dataset.title, []]; unmarked.push(last); }
      last[1].push(what);
    }
    rounds.forEach(function (sec) {
      var box = document.createElement("section");
      box.className = "review-round";
      var h = document.createElement("h3"); h.textContent = sec.dataset.title; box.appendChild(h);
      if (sec.dataset.kind === "recommend") {
        $all(".post", sec).forEach(function (post) {
          var names = pressed(post).map(function (b) { return b.textContent; });
          if (names.length) { marked = true; } else { blank(sec, post.dataset.title); }
          line(box, post.dataset.title, names.length ? names.join("、") : S.blank_section, !names.length);
        });
      } else if (sec.dataset.kind === "evaluate") {
        $all(".subject", sec).forEach(function (f) {
          var g = pressed(f, ".grades .toggle")[0];
          var d = pressed(f, ".directions .toggle")[0];
          if (g || d) { marked = true; }
          if (!g) { blank(sec, f.dataset.subject); }
          var text = g ? g.textContent : S.not_graded;
          if ($(".directions", f)) { text += " / " + (d ? d.textContent : S.no_direction); }
          line(box, f.dataset.subject, text, !g);
        });
      } else {
        $all(".nominee", sec).forEach(function (f) {
          var v = pressed(f)[0];
          if (v) { marked = true; } else { blank(sec, f.dataset.nominee); }
          line(box, f.dataset.nominee, v ? v.textContent : S.not_voted, !v);
        });
      }
      list.appendChild(box);
    });
    var note = $("#review-blank");
    note.textContent = marked ? "" : S.all_blank;
    note.hidden = marked;
    // What is left blank or ungraded comes first, before any list that could scroll.
    var summary = $("#review-unmarked");
    summary.textContent = "";
    summary.hidden = !marked || !unmarked.length;
    if (marked && unmarked.length) {
      var head = document.createElement("p");
      head.textContent = fmt(S.unmarked, { n: unmarked.reduce(function (n, u) { return n + u[1].length; }, 0) });
      summary.appendChild(head);
      unmarked.forEach(function (u) {
        var item = document.createElement("p");
        item.className = "items";
        item.textContent = u[0] + "：" + u[1].join("、");
        summary.appendChild(item);
      });
    }
  }

  function castBallot() {
    if (busy || !session) { return; }
    busy = true;
    var body = { session: session, rounds: {} };
    rounds.forEach(function (sec) { body.rounds[sec.dataset.round] = selection(sec); });
    var btn = $('[data-action="cast"]'); btn.disabled = true;
    K.api("/api/cast", body).then(function (res) {
      busy = false; btn.disabled = false;
      body = null;
      if (!res.ok) {
        var code = K.errorCode(res);
        if (res.status === 400 && code !== "malformed") { say(screen("review"), K.errorText(res)); return; }
        wipe(); K.fail(K.errorText(res)); return;
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
        if (left-- <= 0) { K.finish(); } else { window.setTimeout(tick, 1000); }
      };
      tick();
    });
  }

  // Forget every choice: the next voter must find nothing, even before the reload.
  function wipe() {
    session = null; rounds = []; pos = -1;
    K.leave("voter");
    $all(".round .toggle.written").forEach(function (b) { b.remove(); });
    $all(".round .toggle").forEach(function (b) { press(b, false); });
    $all(".round input").forEach(function (i) { i.value = ""; });
    $all(".round .message").forEach(function (m) { m.textContent = ""; });
    $("#review-list").textContent = "";
    $("#review-unmarked").textContent = "";
    $("#check-code").textContent = "";
    $(".check-code").hidden = true;
  }
  function cancel() {
    var token = session;
    wipe();
    if (token) { K.api("/api/cancel", { session: token }).then(K.finish); } else { K.finish(); }
  }

  // The page is ready (main.js): listen for keys and keep the welcome screen current.
  function start() {
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
    window.setInterval(poll, 3000);
    poll();
  }

  K.register({
    name: "voter",
    actions: {
      "start": function () { startScan(); },
      "use-unlock": function () { submitCard({ unlock: true }); },
      "submit-card": function () { typedCard(); },
      "cancel": function () { cancel(); },
      "toggle": function (btn) { onToggle(btn); },
      "add-write-in": function (btn) { addWriteIn(btn); },
      "next": function () { next(); },
      "back": function () { back(); },
      "cast": function () { castBallot(); }
    },
    begin: beginVoting,
    wipe: function () { wipe(); $("#receipts").textContent = ""; },
    // A voter who walks away mid-ballot (or leaves the card screen open) is cancelled.
    idle: function () { if (session || !screen("scan").hidden) { cancel(); } },
    start: start
  });
})();
