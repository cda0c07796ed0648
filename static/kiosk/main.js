/* Starts the kiosk page once common.js, voter.js and judge.js have registered: one click-dispatch
 * table {data-action: handler} built from what each app registered (a name claimed twice is a
 * bug and stops the page), then each app's own listeners and timers, then the idle timer. */
(function () {
  "use strict";

  var K = window.Kiosk;
  var actions = Object.create(null);
  K.registered().forEach(function (m) {
    Object.keys(m.actions || {}).forEach(function (name) {
      if (actions[name]) { throw new Error("kiosk: two handlers for data-action " + name); }
      actions[name] = m.actions[name];
    });
  });
  K.actions = Object.freeze(actions);

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn || btn.disabled) { return; }
    var handler = btn.dataset.action && actions[btn.dataset.action];
    if (handler) { handler(btn); }
  });
  K.registered().forEach(function (m) { if (m.start) { m.start(); } });
  ["pointerdown", "keydown"].forEach(function (t) { document.addEventListener(t, K.resetIdle, true); });
  K.resetIdle();
  document.getElementById("app").dataset.ready = "1";  // for tests and for staff: the screens answer from here on
})();
