/* What base.html's third-party <script> tags need, without inline handlers (the CSP runs no inline code):
   - data-fallback="URL": if the script fails to load (the CDN unreachable or refused, or its SRI hash
     wrong), the copy at URL is loaded instead;
   - data-ready="EVENT": once the script (or its fallback) has run, EVENT is dispatched on the document
     ("plotly:ready", which core/figure.js waits for).
   A classic script placed before those tags: its capturing listeners on the document see their load
   and error events (which do not bubble) however early they fire. */
(function () {
  "use strict";
  document.addEventListener("load", function (event) {
    var script = event.target;
    if (script instanceof HTMLScriptElement && script.dataset.ready) document.dispatchEvent(new Event(script.dataset.ready));
  }, true);
  document.addEventListener("error", function (event) {
    var failed = event.target;
    if (!(failed instanceof HTMLScriptElement) || !failed.dataset.fallback) return;
    var local = document.createElement("script");
    local.src = failed.dataset.fallback;
    local.charset = failed.charset;
    if (failed.dataset.ready) local.dataset.ready = failed.dataset.ready;
    // A deferred script expects to run before DOMContentLoaded, which its copy cannot: htmx then waits
    // for that event forever unless the document is complete (htmx 2's ready()). Its copy goes in after
    // the load event; an async script's (plotly.js) at once.
    if (!failed.defer || document.readyState === "complete") document.head.appendChild(local);
    else window.addEventListener("load", function () { document.head.appendChild(local); });
  }, true);
})();
