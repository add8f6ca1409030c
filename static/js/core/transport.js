/* The transport partial's controls (templates/partials/transport.html: #btn-reset, #btn-back, #btn-forward,
   #btn-end, #btn-play, the #speed slider), wired once for every page that includes it (pages/bench.js,
   pages/bench-seq2seq.js).

   transportActions(store, player)   { forward, back, play, start, end }: what the buttons and the keys
                                     (core/keys.js bindKeys) do; a step pauses playback
   wireTransport(root, actions, player, onSpeed)   the buttons and the speed slider under root */

export function transportActions(store, player) {
  return {
    forward: () => { player.pause(); store.stepBy(1); },
    back: () => { player.pause(); store.stepBy(-1); },
    play: () => player.toggle(),
    start: () => { player.pause(); store.toStart(); },
    end: () => { player.pause(); store.toEnd(); },
  };
}

export function wireTransport(root, actions, player, onSpeed) {
  const $ = (sel) => root.querySelector(sel);
  const click = (sel, fn) => $(sel).addEventListener("click", (e) => { e.preventDefault(); fn(); });
  click("#btn-reset", actions.start);
  click("#btn-back", actions.back);
  click("#btn-forward", actions.forward);
  click("#btn-end", actions.end);
  click("#btn-play", actions.play);
  const speed = $("#speed"), label = $("#speed-value");
  speed.value = String(player.speed);
  label.textContent = speed.value;
  speed.addEventListener("input", () => {
    player.setSpeed(parseInt(speed.value, 10));
    label.textContent = speed.value;
    if (onSpeed) onSpeed();
  });
  speed.addEventListener("change", () => speed.blur());  // hand the arrow keys back to the transport
}
