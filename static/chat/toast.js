// Short notices at the bottom of the screen, optionally with one action (e.g. Undo).

import { button, el } from "./dom.js";

/** Show `text` for `timeout` ms; `action` = {label, run} adds a button. Return a closer. */
export function showToast(text, { action = null, timeout = 8000, kind = "info" } = {}) {
  const root = document.getElementById("toasts");
  const toast = el("div", `toast toast-${kind}`);
  toast.setAttribute("role", kind === "error" ? "alert" : "status");
  toast.append(el("span", "", text));
  const close = () => toast.remove();
  if (action) {
    const act = button("action", action.label, "toast-action");
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
