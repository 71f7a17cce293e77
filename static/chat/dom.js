// The page's small DOM helpers: elements are built with DOM calls (text as text, never
// markup placed with innerHTML).

/** Return a new `tag` element with `className` and, when given, `text` as its text. */
export function el(tag, className = "", text = undefined) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Return a type=button <button> whose clicks are told apart by `data-action`. */
export function button(action, label, className = "") {
  const node = el("button", className, label);
  node.type = "button";
  node.dataset.action = action;
  return node;
}
