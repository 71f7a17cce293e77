// Short notices at the bottom of the screen, optionally with one action (e.g. Undo).

/** Show `text` for `timeout` ms; `action` = {label, run} adds a button. Return a closer. */
export function showToast(text, { action = null, timeout = 8000, kind = "info" } = {}) {
  const root = document.getElementById("toasts");
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  toast.setAttribute("role", kind === "error" ? "alert" : "status");
  const message = document.createElement("span");
  message.textContent = text;
  toast.append(message);
  const close = () => toast.remove();
  if (action) {
    const act = document.createElement("button");
    act.type = "button";
    act.className = "toast-action";
    act.textContent = action.label;
    act.addEventListener("click", () => {
      close();
      action.run();
    });
    toast.append(act);
  }
  root.append(toast);
  setTimeout(close, timeout);
  return close;
}
