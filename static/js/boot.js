/* What base.html's third-party <script> tags need, without inline handlers (the CSP runs no inline code):
   - data-fallback="URL": if the script fails to load (the CDN unreachable or refused, or its SRI hash
     wrong), or has not loaded within data-timeout milliseconds of the navigation's start (a CDN that
     hangs instead of failing: bad wifi, packets dropped), the copy at URL is loaded instead;
   - data-ready="EVENT": once the script (or its fallback) has run, EVENT is dispatched on the document
     ("plotly:ready", which core/figure.js waits for).
   A classic script placed before those tags: its capturing listeners on the document see their load
   and error events (which do not bubble) however early they fire. A CDN copy given up on may still
   arrive and run after its local copy; plotly.js then announces itself again (the figures redraw). */
(function () {
  "use strict";
  function useLocal(failed) {
    if (failed.dataset.settled) return;  // loaded, or its fallback already on its way
    failed.dataset.settled = "fallback";
    var local = document.createElement("script");
    local.src = failed.dataset.fallback;
    local.charset = failed.charset;
    if (failed.dataset.ready) local.dataset.ready = failed.dataset.ready;
    // A deferred script expects to run before DOMContentLoaded, which its copy cannot: htmx then waits
    // for that event forever unless the document is complete (htmx 2's ready()). Its copy goes in after
    // the load event; an async script's at once.
    if (!failed.defer || document.readyState === "complete") document.head.appendChild(local);
    else window.addEventListener("load", function () { document.head.appendChild(local); });
    // htmx starts on DOMContentLoaded, or at once if the document is complete. An async copy that runs
    // between the two (a CDN refused or hanging: a hanging script also holds the load event back) would
    // wait for an event that has passed: it is told again once it has run (data-dom-ready on its tag).
    // The page's own modules never listen for it then (they run after parsing and check readyState).
    if (failed.hasAttribute("data-dom-ready")) {
      local.addEventListener("load", function () {
        if (domReady && document.readyState !== "complete") document.dispatchEvent(new Event("DOMContentLoaded"));
      });
    }
  }
  var domReady = false;
  document.addEventListener("DOMContentLoaded", function () { domReady = true; });
  document.addEventListener("load", function (event) {
    var script = event.target;
    if (!(script instanceof HTMLScriptElement)) return;
    if (script.dataset.fallback && !script.dataset.settled) script.dataset.settled = "loaded";
    if (script.dataset.ready) document.dispatchEvent(new Event(script.dataset.ready));
  }, true);
  document.addEventListener("error", function (event) {
    var failed = event.target;
    if (failed instanceof HTMLScriptElement && failed.dataset.fallback) useLocal(failed);
  }, true);
  // a hang is never an error event: each CDN copy gets data-timeout ms from the navigation's start
  document.addEventListener("DOMContentLoaded", function () {
    var waiting = document.querySelectorAll("script[data-fallback][data-timeout]");
    Array.prototype.forEach.call(waiting, function (script) {
      var left = Number(script.dataset.timeout) - performance.now();
      setTimeout(function () { useLocal(script); }, Math.max(0, left));
    });
  });
})();
