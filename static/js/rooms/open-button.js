// The "Open a class" button on its own, with no imports: a page shows it at once and loads the room's
// code (page-room.js and what it imports) only when the teacher presses it, or when ?room= is in the URL.
// Most visitors never open a class, so their first load does not carry it.

/** The "Open a class" button, appended to container; onOpen() resolves to the open room. */
export function openButton(container, strings, onOpen) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "room-open";
  button.dataset.roomOpen = "";
  button.textContent = strings.lesson_room_open;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await onOpen();
      button.remove();
    } catch (err) {
      button.disabled = false;
    }
  });
  container.append(button);
  return button;
}
