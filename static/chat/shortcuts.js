// The chat page's keyboard shortcuts (listed in the help dialog, #shortcuts-dialog):
// Esc stops the reply, Ctrl/⌘+Shift+O starts a new chat, Ctrl/⌘+K searches, `/` goes
// to the message box, ↑ in an empty message box edits the last message, `?` shows the
// list. Keys typed into a field stay the field's, except the Ctrl/⌘ chords and Esc.

const dialog = () => document.getElementById("shortcuts-dialog");

function typingIn(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || target.closest("input, textarea, select") !== null)
  );
}

/** Open the list of shortcuts. */
export function showShortcuts() {
  const help = dialog();
  if (!help.open) help.showModal();
}

/**
 * @param {{stop: () => boolean, newChat: () => void, search: () => void,
 *   focusComposer: () => void, editLast: () => boolean, composerEmpty: () => boolean}} actions
 *   stop and editLast return whether they did something (else the key does its usual).
 */
export function installShortcuts(actions) {
  document.getElementById("shortcuts-open").addEventListener("click", showShortcuts);
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.keyCode === 229) return;
    if (dialog().open) return; // the dialog's own Esc closes it
    const chord = (event.ctrlKey || event.metaKey) && !event.altKey;
    const key = event.key.toLowerCase();
    if (chord && event.shiftKey && key === "o") {
      event.preventDefault();
      actions.newChat();
    } else if (chord && !event.shiftKey && key === "k") {
      event.preventDefault();
      actions.search();
    } else if (event.key === "Escape" && !chord) {
      if (actions.stop()) event.preventDefault();
    } else if (chord || event.altKey || typingIn(event.target)) {
      if (
        event.key === "ArrowUp" &&
        !chord &&
        !event.shiftKey &&
        event.target.id === "composer-input" &&
        actions.composerEmpty() &&
        actions.editLast()
      ) {
        event.preventDefault();
      }
    } else if (event.key === "/") {
      event.preventDefault();
      actions.focusComposer();
    } else if (event.key === "?") {
      event.preventDefault();
      showShortcuts();
    }
  });
}
