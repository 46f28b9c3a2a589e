// Pulso's small script: what htmx alone does not do.
//
// Live resync: the htmx ws extension reconnects with backoff by itself
// (capped below at 5 s). On every reconnect after the first connection,
// events may have been missed, so the page fires "pulso:resync" on <body>;
// live fragments listen for it (hx-trigger="pulso:resync from:body") and
// re-fetch themselves.
//
// Reconnect after a server's goodbye, reload when the session ended: see
// the htmx:wsClose handler.
//
// Toasts: flash messages marked data-autohide disappear after that many ms.
//
// Tasks: see the "pulso:tasks" handler below; quotes, invoices and deals
// likewise ("pulso:quotes", "pulso:invoices", "pulso:deals").
(function () {
  "use strict";
  var connectedOnce = false;

  // Reconnect backoff. The extension's full jitter doubles up to 64 s after
  // six failed attempts, so a page that lived through a restart of a few
  // seconds (a deploy, a node replaced) could wait a minute to come back.
  // Capped at 5 s and still jittered (half to all of each step), pages
  // come back within seconds without arriving all at once.
  htmx.config.wsReconnectDelay = function (retryCount) {
    var step = Math.min(5000, 500 * Math.pow(2, retryCount));
    return step / 2 + Math.random() * step / 2;
  };

  // Views the server keeps current (app/live/hub/views.go): the element
  // with data-live-view names a view and its query (a dashboard and its
  // filters). The socket is told on every connection and whenever that
  // element is replaced (new filters); the server pushes the view's parts
  // re-rendered when events move them, and acknowledges a subscription by
  // swapping #live-view.
  var socket = null;
  var followed = "";
  function follow() {
    if (!socket) return;
    var el = document.querySelector("[data-live-view]");
    var msg = el ? JSON.stringify({ view: el.dataset.liveView, query: el.dataset.liveQuery || "" }) : "";
    if (msg === followed) return;
    followed = msg;
    socket.send(msg || JSON.stringify({ view: "" }));
  }
  document.addEventListener("htmx:afterSettle", follow);

  document.addEventListener("htmx:wsOpen", function (e) {
    document.body.setAttribute("data-live", "on");
    socket = e.detail && e.detail.socketWrapper;
    followed = "";
    follow();
    if (connectedOnce) {
      htmx.trigger(document.body, "pulso:resync");
    }
    connectedOnce = true;
  });
  document.addEventListener("htmx:wsClose", function (e) {
    document.body.setAttribute("data-live", "off");
    socket = null; // the next connection follows afresh
    // 1001 (going away) is how a Pulso instance says goodbye when it shuts
    // down. The extension retries only abnormal closes (1006, 1011-1013),
    // so reconnect here, with jitter so a fleet of pages does not stampede
    // the remaining instances; a failed attempt then closes with 1006 and
    // the extension's own backoff takes over.
    var ev = e.detail && e.detail.event;
    var sock = e.detail && e.detail.socketWrapper;
    if (ev && ev.code === 1001 && sock && sock.reconnect) {
      setTimeout(sock.reconnect, 250 + Math.random() * 1000);
    }
    // 4001: this page's session ended (signed out, deactivated, expired)
    // or its role changed. Reloading shows the login page, or the page as
    // the new role. 4429 (too many open pages) is left offline: the
    // extension does not retry it.
    if (ev && ev.code === 4001) {
      location.reload();
    }
  });

  function scheduleHide(root) {
    var nodes = root.querySelectorAll ? root.querySelectorAll("[data-autohide]") : [];
    Array.prototype.forEach.call(nodes, function (el) {
      if (el.dataset.hideScheduled) return;
      el.dataset.hideScheduled = "1";
      setTimeout(function () { el.remove(); }, parseInt(el.dataset.autohide, 10) || 8000);
    });
  }
  document.addEventListener("htmx:oobAfterSwap", function () { scheduleHide(document); });

  // Task changes arrive as a new #tasks-live stamp; task lists, My day and
  // the alert centre reload themselves on "pulso:tasks" (each its own view).
  var lastTasksStamp = "";
  document.addEventListener("htmx:oobAfterSwap", function () {
    var el = document.getElementById("tasks-live");
    var stamp = el && el.dataset.stamp;
    if (stamp && stamp !== lastTasksStamp) {
      lastTasksStamp = stamp;
      htmx.trigger(document.body, "pulso:tasks");
    }
  });

  // Quote changes (sent, opened, signed, rejected) arrive as a #quotes-live
  // stamp naming the quote: the list reloads on "pulso:quotes", a quote's
  // page on "pulso:quote-<id>".
  var lastQuotesStamp = "";
  document.addEventListener("htmx:oobAfterSwap", function () {
    var el = document.getElementById("quotes-live");
    var stamp = el && el.dataset.stamp;
    if (stamp && stamp !== lastQuotesStamp) {
      lastQuotesStamp = stamp;
      htmx.trigger(document.body, "pulso:quotes");
      htmx.trigger(document.body, "pulso:quote-" + el.dataset.quote);
    }
  });

  // Invoice changes (issued, sent, opened, paid, voided, scheduled) arrive
  // as an #invoices-live stamp naming the invoice and its customer: lists
  // reload on "pulso:invoices", an invoice's page and its sends on
  // "pulso:invoice-<id>", the customer's sales tab on
  // "pulso:customer-invoices-<id>".
  var lastInvoicesStamp = "";
  document.addEventListener("htmx:oobAfterSwap", function () {
    var el = document.getElementById("invoices-live");
    var stamp = el && el.dataset.stamp;
    if (stamp && stamp !== lastInvoicesStamp) {
      lastInvoicesStamp = stamp;
      htmx.trigger(document.body, "pulso:invoices");
      htmx.trigger(document.body, "pulso:invoice-" + el.dataset.invoice);
      if (el.dataset.customer && el.dataset.customer !== "0") {
        htmx.trigger(document.body, "pulso:customer-invoices-" + el.dataset.customer);
      }
    }
  });
  // Deal changes arrive as a new #opp-live element (views/pipeline: the
  // card and its state before and after, which board.js applies to a
  // board). Every swap replaces the element, so a new one is a new event:
  // the dashboard's tiles reload on "pulso:deals". This only reads the
  // element; board.js still finds it untouched.
  var lastDeal = null;
  document.addEventListener("htmx:oobAfterSwap", function () {
    var el = document.getElementById("opp-live");
    if (el && el !== lastDeal && el.hasAttribute("data-id")) {
      lastDeal = el;
      htmx.trigger(document.body, "pulso:deals");
    }
  });

  // The sales-target bar (#target-progress) loads itself from an area that
  // may not be deployed yet: its 404 leaves the bar empty rather than
  // flashing "not found" on every home page.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (d && d.elt && d.elt.id === "target-progress" && d.xhr && d.xhr.status === 404) {
      d.shouldSwap = false;
      d.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function () { scheduleHide(document); });
  document.addEventListener("DOMContentLoaded", function () { scheduleHide(document); });
})();
