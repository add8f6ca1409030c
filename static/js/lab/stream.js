/* Following one run: its EventSource, each event through lab/run-state.js's reducer.

   const close = followRun(run, url, onChange, EventSourceClass = globalThis.EventSource)
     onChange(run) after every event; the stream is closed at the final event (before the server's
     close could make EventSource reconnect), and a stream the browser gave up on while the run was
     live marks the run "lost". While the connection drops and comes back, EventSource resumes after
     its Last-Event-ID by itself, so no event is applied twice.
*/

import { EVENTS, FINAL, applyRunEvent, isLive } from "./run-state.js";

export function followRun(run, url, onChange, EventSourceClass) {
  const ES = EventSourceClass || globalThis.EventSource;
  const es = new ES(url);
  let open = true;
  const close = () => { if (open) { open = false; es.close(); } };
  for (const kind of EVENTS) {
    es.addEventListener(kind, (e) => {
      if (!open) return;
      let data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      applyRunEvent(run, kind, data);
      if (FINAL.includes(kind)) close();
      onChange(run);
    });
  }
  es.onerror = () => {
    if (!open || es.readyState !== 2) return;  // 0: reconnecting by itself
    close();
    if (isLive(run)) {
      run.status = "lost";
      run.version += 1;
      onChange(run);
    }
  };
  return close;
}
