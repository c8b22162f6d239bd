// vigil UI: SLA countdowns and the audited reveal of blurred media. No framework, no CDN.
(function () {
  "use strict";

  function fmt(seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
    return seconds < 0 ? "overdue by " + text : text + " left";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      if (isNaN(left)) return;
      el.textContent = (el.title ? el.title + ": " : "") + fmt(left);
      el.classList.toggle("overdue", left < 0);
    });
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function reveal(button) {
    var url = "/cases/" + button.dataset.case + "/media/" + button.dataset.sha + "/reveal";
    fetch(url, { method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("reveal refused: " + response.status);
        document.querySelectorAll('.media[data-sha="' + button.dataset.sha + '"]').forEach(function (el) {
          el.classList.remove("blurred");
          el.classList.add("revealed");
        });
        button.disabled = true;
        button.textContent = "Revealed";
      })
      .catch(function (err) { button.textContent = err.message; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("video, audio").forEach(function (el) {
      el.muted = true;
      el.autoplay = false;
      el.addEventListener("volumechange", function () { if (el.classList.contains("blurred")) el.muted = true; });
    });
    document.querySelectorAll("button.reveal").forEach(function (b) {
      b.addEventListener("click", function () { reveal(b); });
    });
    tick();
    setInterval(tick, 1000);
  });
})();
