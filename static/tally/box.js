// The published box: look a receipt code up in the lists this page already holds (nothing is sent).
(function () {
  "use strict";
  const boxes = JSON.parse(document.getElementById("boxes").textContent);
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const input = document.getElementById("code");
  const answer = document.getElementById("answer");

  // What a voter types: any case, spaces or dashes anywhere; base32 letters and digits.
  function normalize(text) {
    const raw = text.toUpperCase().replace(/[^A-Z2-7]/g, "");
    return raw.length === 8 ? raw.slice(0, 4) + "-" + raw.slice(4) : null;
  }

  function look() {
    const typed = input.value.trim();
    answer.textContent = "";
    answer.className = "msg";
    if (!typed) return;
    const code = normalize(typed);
    if (!code) { answer.textContent = T.short; return; }
    const hits = boxes.filter((b) => b.receipts.includes(code));
    if (hits.length) {
      answer.textContent = `${code} · ${T.found} ${hits.map((b) => b.title).join("、")}`;
      answer.className = "msg ok";
    } else {
      answer.textContent = `${code} · ${T.not_found}`;
      answer.className = "msg bad";
    }
  }

  input.addEventListener("input", look);
  look();
})();
