// The opportunities board (kanban): drag and drop, and live updates; and
// the agenda's drag to another day.
//
// Drag: SortableJS (vendored, loaded only when a board is on the page) moves
// cards between stage columns with the mouse or, after a short press, with a
// finger; a drop POSTs the move with the version the card was rendered with.
// The board does not recount on the drop: the move's live event does that,
// for the mover exactly as for everyone else. A drop on "cancelada" opens the
// deal's page, where a cancel reason is chosen.
//
// Live: the server swaps #opp-live (out of band) with the changed card and
// the deal's state before and after. Each board applies that under its own
// filters: it takes the "before" out of its column's count and total, puts
// the "after" in, and moves the card. A change of owner ("reassigned")
// reloads the board instead.
(function () {
  "use strict";

  var sortableLoading = null;
  function loadSortable(src) {
    if (window.Sortable) return Promise.resolve();
    if (!sortableLoading) {
      sortableLoading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = resolve;
        s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    return sortableLoading;
  }

  function initBoard() {
    var board = document.getElementById("board");
    if (!board || board.dataset.ready) return;
    board.dataset.ready = "1";
    // No drag library for someone who may not move deals (an accountant).
    if (!board.dataset.sortableSrc) return;
    loadSortable(board.dataset.sortableSrc).then(function () {
      Array.prototype.forEach.call(board.querySelectorAll(".board-cards"), function (list) {
        window.Sortable.create(list, {
          group: "board",
          animation: 150,
          delay: 200,
          delayOnTouchOnly: true,
          filter: "details, summary, button, a",
          preventOnFilter: false,
          onEnd: function (e) {
            if (e.from === e.to) return;
            var card = e.item;
            var stage = e.to.dataset.stage;
            if (stage === "cancelada") {
              window.location.href = "/opportunities/" + card.dataset.id + "?stage=cancelada#cancel";
              return;
            }
            htmx.ajax("POST", "/opportunities/" + card.dataset.id + "/move", {
              source: card,
              values: { stage: stage, version: card.dataset.version },
              swap: "none"
            });
          }
        });
      });
      board.setAttribute("data-draggable", "on");
    });
  }

  // Mirrors customers.FormatMoney: EUR 1.234,56 €, MXN $1,234.56 MXN, ARS $ 1.234,56.
  function money(minor, currency) {
    var neg = minor < 0;
    if (neg) minor = -minor;
    var whole = Math.floor(minor / 100), cents = minor % 100;
    var dec = ",", group = ".";
    if (currency === "MXN") { dec = "."; group = ","; }
    var ws = String(whole), out = "";
    for (var i = 0; i < ws.length; i++) {
      if (i > 0 && (ws.length - i) % 3 === 0) out += group;
      out += ws[i];
    }
    var num = out + dec + (cents < 10 ? "0" : "") + cents;
    var sign = neg ? "-" : "";
    switch (currency) {
      case "EUR": return sign + num + "\u00a0€";
      case "MXN": return sign + "$" + num + "\u00a0MXN";
      case "ARS": return sign + "$\u00a0" + num;
    }
    return sign + num + "\u00a0" + currency;
  }

  function matches(board, s) {
    var d = board.dataset;
    if (d.owner && String(s.owner) !== d.owner) return false;
    if (d.team && d.team.split(",").indexOf(String(s.owner)) < 0) return false;
    if (d.month && s.month !== d.month) return false;
    if (d.minCents && s.amount < Number(d.minCents)) return false;
    if (d.maxCents && s.amount > Number(d.maxCents)) return false;
    return true;
  }

  function adjust(board, stage, deals, amount) {
    var col = board.querySelector('.board-col[data-stage="' + stage + '"]');
    if (!col) return;
    var count = col.querySelector(".board-count");
    var total = col.querySelector(".board-total");
    var n = Number(count.dataset.count) + deals;
    var t = Number(total.dataset.total) + amount;
    count.dataset.count = String(n);
    count.textContent = String(n);
    total.dataset.total = String(t);
    total.textContent = money(t, board.dataset.currency);
  }

  var reloadTimer = null;
  function reload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(function () { htmx.trigger(document.body, "pulso:resync"); }, 150);
  }

  function apply(live) {
    var op = live.getAttribute("data-op");
    var board = document.getElementById("board");
    if (!op || !board) return;
    live.removeAttribute("data-op");
    if (op === "reassigned") { reload(); return; }
    var before = live.dataset.before ? JSON.parse(live.dataset.before) : null;
    var after = live.dataset.after ? JSON.parse(live.dataset.after) : null;
    if (before && matches(board, before)) adjust(board, before.stage, -1, -before.amount);
    var old = board.querySelector("#opp-" + live.dataset.id);
    if (old) old.remove();
    if (after && matches(board, after)) {
      adjust(board, after.stage, 1, after.amount);
      var card = live.querySelector(".opp-card");
      var list = board.querySelector('.board-cards[data-stage="' + after.stage + '"]');
      if (card && list) {
        list.insertBefore(card, list.firstChild);
        htmx.process(card);
      }
    }
  }

  document.addEventListener("htmx:oobAfterSwap", function () {
    var live = document.getElementById("opp-live");
    if (live) apply(live);
  });

  // The agenda (desktop week): drag a task to another day to reschedule
  // it; the time of day stays. The list reloads from the task event.
  function initAgenda() {
    var agenda = document.getElementById("agenda");
    if (!agenda || agenda.dataset.ready || !agenda.hasAttribute("data-can-move")) return;
    agenda.dataset.ready = "1";
    loadSortable(agenda.dataset.sortableSrc).then(function () {
      Array.prototype.forEach.call(agenda.querySelectorAll(".agenda-items"), function (list) {
        window.Sortable.create(list, {
          group: "agenda",
          animation: 150,
          delay: 200,
          delayOnTouchOnly: true,
          filter: "a",
          preventOnFilter: false,
          onEnd: function (e) {
            if (e.from === e.to) return;
            htmx.ajax("POST", "/tasks/" + e.item.dataset.id + "/reschedule", {
              source: e.item,
              values: { day: e.to.dataset.day, version: e.item.dataset.version },
              swap: "none"
            });
          }
        });
      });
      agenda.setAttribute("data-draggable", "on");
    });
  }

  function init() { initBoard(); initAgenda(); }
  document.addEventListener("htmx:afterSettle", init);
  document.addEventListener("DOMContentLoaded", init);
})();
