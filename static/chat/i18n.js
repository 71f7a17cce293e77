// Translated UI strings. The template renders them (so Django's catalogues translate
// them) into #chat-i18n; {name} marks a value filled in here.

const strings = new Map();

function load() {
  if (strings.size) return;
  const root = document.getElementById("chat-i18n");
  if (!root) return;
  for (const node of root.querySelectorAll("[data-k]")) {
    strings.set(node.dataset.k, node.textContent.trim());
  }
}

/** Return the translated string `key` with `{name}` placeholders replaced from `vars`. */
export function t(key, vars = {}) {
  load();
  const text = strings.get(key) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** Return the page's language code (e.g. "zh-hans" or "en"). */
export function language() {
  return document.documentElement.lang || "en";
}
