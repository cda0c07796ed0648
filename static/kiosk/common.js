/* What the kiosk's two apps share, on one namespace: window.Kiosk. Loaded first; voter.js and
 * judge.js register themselves here (Kiosk.register), and main.js builds the one click-dispatch
 * table from what they registered and starts the page.
 *
 * Choices live only in the DOM of this page and in memory; nothing goes to localStorage,
 * sessionStorage or cookies. Each app keeps its own state in its own closure; the only state
 * shared here is who is at the screen (Kiosk.who) and the camera, which finish() and fail() stop
 * whoever started it. */
(function () {
  "use strict";

  var S = JSON.parse(document.getElementById("kiosk-strings").textContent);
  var IDLE_MS = 180000;

  var modules = [];      // what voter.js and judge.js registered, in load order
  var present = null;    // who is at the screen: null, or the name of the app in use
  var stream = null;
  var scanTimer = null;
  var onCode = null;     // what to do with a QR code the camera read
  var idleTimer = null;

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

  // -- who is at the screen ----------------------------------------------------------------
  // An app says when someone starts using it (a voter's session, a judge's seat) and when it
  // has forgotten them; the welcome screen stops asking the kiosk for news meanwhile.
  function who() { return present; }
  function arrive(name) { present = name; }
  function leave(name) { if (present === name) { present = null; } }

  // -- the camera (reads ballot cards and judge cards alike) --------------------------------
  function startCamera(found) {
    var note = $("#camera-note");
    var video = $("#camera");
    onCode = found;
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
    if (code && code.data && onCode) { onCode(code.data); }
  }
  function stopCamera() {
    if (scanTimer) { window.clearInterval(scanTimer); scanTimer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    var video = $("#camera"); video.srcObject = null;
  }

  // -- the apps ---------------------------------------------------------------------------
  // register({name, actions: {data-action: handler(button)}, begin(doc), wipe(), idle()}):
  // begin takes over from the card screen when /api/card answers with mode === name; wipe
  // forgets everything before the page reloads; idle runs when nobody has touched the screen.
  function register(mod) { modules.push(mod); }
  function registered() { return modules.slice(); }

  // The card answered: hand the page to the app for its mode (anything but a judge is a voter).
  function enter(doc) {
    var byMode = {};
    modules.forEach(function (m) { if (m.begin) { byMode[m.name] = m; } });
    (byMode[doc.mode] || byMode.voter).begin(doc);
  }

  // Forget everyone and everything, then start over from a fresh page.
  function finish() {
    modules.forEach(function (m) { if (m.wipe) { m.wipe(); } });
    stopCamera();
    window.location.replace("/");
  }

  function resetIdle() {
    if (idleTimer) { window.clearTimeout(idleTimer); }
    idleTimer = window.setTimeout(function () {
      modules.forEach(function (m) { if (m.idle) { m.idle(); } });
    }, IDLE_MS);
  }

  register({ name: "common", actions: { "finish": function () { finish(); } } });

  window.Kiosk = {
    S: S, fmt: fmt, $: $, $all: $all, show: show, screen: screen,
    api: api, errorText: errorText, errorCode: errorCode, fail: fail,
    who: who, arrive: arrive, leave: leave,
    startCamera: startCamera, stopCamera: stopCamera,
    register: register, registered: registered, enter: enter, finish: finish, resetIdle: resetIdle,
    actions: null  // the click-dispatch table {data-action: handler}, built by main.js
  };
})();
