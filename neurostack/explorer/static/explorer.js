// Live updates without a build step. The home page follows the node's newHeads over
// WebSocket (the node serves WS on its RPC URL) and swaps in /live/home, the server's
// rendering of the live part; without a WebSocket it polls /live/home every block time.
// A pending transaction's page polls /live/tx/HASH until it is mined or dropped.
(function () {
  "use strict";

  function followHome(live) {
    var head = Number(live.dataset.head);
    var interval = Math.max(Number(live.dataset.interval) || 1000, 250);
    var busy = false, queued = null, polling = null;

    function refresh(number) {
      if (busy) { queued = number; return; }  // one request at a time, the newest wins
      busy = true;
      fetch("/live/home?head=" + (number >= 0 ? number : ""), { cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) {
            live.innerHTML = html;
            var stats = live.querySelector("[data-head]");
            if (stats) head = Number(stats.dataset.head);  // may go down after a reset
          }
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (queued !== null) { var next = queued; queued = null; refresh(next); }
        });
    }

    function poll() {
      if (polling === null) polling = setInterval(function () { refresh(head + 1); }, interval);
    }

    try {
      var ws = new WebSocket(live.dataset.ws);
      ws.onopen = function () {
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
        // The page may have been rendered while the index lagged the node: catch up once.
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "eth_blockNumber", params: [] }));
      };
      ws.onmessage = function (event) {
        var msg = JSON.parse(event.data);
        if (msg.method === "eth_subscription" && msg.params && msg.params.result) {
          refresh(parseInt(msg.params.result.number, 16));
        } else if (msg.id === 2 && typeof msg.result === "string") {
          var nodeHead = parseInt(msg.result, 16);
          if (nodeHead !== head) refresh(nodeHead);
        }
      };
      ws.onerror = poll;
      ws.onclose = poll;
    } catch (e) {
      poll();
    }
  }

  function followTx(badge) {
    var hash = badge.dataset.liveTx;
    var reason = document.getElementById("pipe-reason");
    var timer = setInterval(function () {
      fetch("/live/tx/" + hash, { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) return;
          if (s.status) {
            badge.textContent = s.status;
            badge.className = "tag status-" + s.status;
          }
          if (reason && s.reason) reason.textContent = s.reason;
          if (s.mined || s.status === "dropped") {
            clearInterval(timer);
            if (s.mined) location.reload();
          }
        })
        .catch(function () {});
    }, 500);
  }

  var live = document.querySelector("[data-live]");
  if (live) followHome(live);
  var badge = document.querySelector("[data-live-tx]");
  if (badge) followTx(badge);
})();
