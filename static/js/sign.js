// The client's signature: signature_pad (vendored, see static/vendor/VERSIONS)
// on a canvas sized to its box and the screen's pixel ratio, so a finger
// stroke lands where it is drawn. On submit the drawing goes as a PNG data
// URL; an empty pad is refused here and again on the server.
(function () {
  "use strict";
  function init() {
    var canvas = document.getElementById("signature-pad");
    var form = document.getElementById("sign-form");
    if (!canvas || !form || canvas.dataset.ready || !window.SignaturePad) return;
    canvas.dataset.ready = "1";
    var pad = new window.SignaturePad(canvas, { penColor: "#111", minWidth: 0.8, maxWidth: 2.6 });
    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(data);
    }
    window.addEventListener("resize", resize);
    resize();
    document.getElementById("signature-clear").addEventListener("click", function () { pad.clear(); });
    form.addEventListener("submit", function (e) {
      if (pad.isEmpty()) {
        e.preventDefault();
        canvas.classList.add("signature-pad--empty");
        canvas.focus();
        return;
      }
      document.getElementById("signature-data").value = pad.toDataURL("image/png");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
