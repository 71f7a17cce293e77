// Markdown to safe DOM. Model output and user text are both untrusted: every render
// (each streamed frame and the final text) goes maths out (maths.js) -> marked ->
// the markup rebuilt from the allow-list (inertMarkup, below) -> DOMPurify (a strict
// allow-list, returning DOM nodes, never an HTML string placed with innerHTML) ->
// highlight.js on the code blocks (its output sanitised again) -> the
// formulas back in as KaTeX nodes -> citation markers linked to their sources
// (citations.js) -> our own buttons built with DOM calls.

import { Marked } from "../vendor/marked-18.2.1/marked.esm.js";
import DOMPurify from "../vendor/dompurify-3.4.18/purify.es.js";
import hljs from "../vendor/highlightjs-11.12.0/highlight.min.js";
import { linkCitations } from "./citations.js";
import { button, el } from "./dom.js";
import { format, gettext } from "./i18n.js";
import { extractMaths, insertMaths } from "./maths.js";

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    // GFM task lists would be <input> elements; forms are not allowed, so draw boxes.
    checkbox({ checked }) {
      return checked ? "☑ " : "☐ ";
    },
  },
});

const ALLOWED_TAGS = [
  "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
  "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
  "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
  "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
  "var",
]; // prettier-ignore

const CONFIG = {
  ALLOWED_TAGS,
  ALLOWED_ATTR: ["href", "src", "alt", "title", "class", "align", "start", "colspan", "rowspan"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  // Links and images: web and mail addresses only (no javascript:, data:, vbscript:…).
  ALLOWED_URI_REGEXP: /^(?:https?:\/\/|mailto:)/i,
  RETURN_DOM_FRAGMENT: true,
};

const HIGHLIGHT_CONFIG = {
  ALLOWED_TAGS: ["span"],
  ALLOWED_ATTR: ["class"],
  RETURN_DOM_FRAGMENT: true,
};

// Classes are kept only where they name a code language or a highlight.js token, so
// pasted markup cannot borrow the page's own classes (a fake button or overlay).
const SAFE_CLASS = /^(?:language-[\w.+#-]+|hljs(?:-[\w-]+)?|[a-z]+_+)$/;

const purify = DOMPurify(window);
purify.addHook("uponSanitizeAttribute", (node, data) => {
  if (data.attrName === "class") {
    data.attrValue = data.attrValue
      .split(/\s+/)
      .filter((name) => SAFE_CLASS.test(name))
      .join(" ");
    if (!data.attrValue) data.keepAttr = false;
  }
});
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  }
});

const MAX_AUTO_HIGHLIGHT = 8000;

// Why the markup is rebuilt before DOMPurify parses it: in Chromium every document a
// script makes (DOMParser, <template>, createHTMLDocument) carries the page's CSP, and
// its parser reports each style="…", on…="…", <style> and <base href> it meets as a
// violation — blocked and harmless, but hundreds per hostile page, enough to flood a
// report endpoint (measured: issue 13). So the browser's parser only ever sees tags
// serialised here: an allowed tag with its allowed attributes, values re-quoted. Every
// other "<" becomes "&lt;", so a disallowed tag shows as the text the model wrote, no
// raw-text element (style, script, textarea…) is ever opened, and what the parser
// builds cannot depend on how this scanner read the input. DOMPurify stays the
// sanitiser (URL schemes, classes, nesting); this only keeps its parse quiet.
const TAG_NAMES = new Set(ALLOWED_TAGS);
// CommonMark's raw HTML tag grammar (spec §6.6), which marked follows too.
const OPEN_TAG =
  /<([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)*)\s*(\/?)>/y;
const CLOSE_TAG = /<\/([A-Za-z][A-Za-z0-9-]*)\s*>/y;
const ATTRIBUTE = /([A-Za-z_:][\w.:-]*)(?:\s*=\s*([^\s"'=<>`]+|'[^']*'|"[^"]*"))?/g;

function quoteAttribute(raw) {
  const value = /^["']/.test(raw) ? raw.slice(1, -1) : raw;
  // Entities are left for the parser to decode (DOMPurify then checks the decoded
  // value); only what could end the value or open a tag is escaped.
  return value.replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function rebuildTag(name, attributes, allowed) {
  let out = `<${name}`;
  for (const [, attrName, raw] of attributes.matchAll(ATTRIBUTE)) {
    const lower = attrName.toLowerCase();
    if (!allowed.has(lower)) continue;
    out += raw === undefined ? ` ${lower}` : ` ${lower}="${quoteAttribute(raw)}"`;
  }
  return `${out}>`;
}

/** Return `html` with only allowed tags and attributes left as markup. */
export function inertMarkup(html, config = CONFIG) {
  const tags = config === CONFIG ? TAG_NAMES : new Set(config.ALLOWED_TAGS);
  const allowed = new Set(config.ALLOWED_ATTR);
  let out = "";
  let last = 0;
  for (let at = html.indexOf("<"); at !== -1; at = html.indexOf("<", at + 1)) {
    out += html.slice(last, at);
    OPEN_TAG.lastIndex = at;
    CLOSE_TAG.lastIndex = at;
    const open = OPEN_TAG.exec(html);
    const close = open ? null : CLOSE_TAG.exec(html);
    const name = (open || close)?.[1].toLowerCase();
    if (open && tags.has(name)) {
      out += rebuildTag(name, open[2], allowed);
      last = at + open[0].length;
    } else if (close && tags.has(name)) {
      out += `</${name}>`;
      last = at + close[0].length;
    } else {
      out += "&lt;";
      last = at + 1;
    }
    at = last - 1;
  }
  return out + html.slice(last);
}

function sanitize(html, config = CONFIG) {
  return purify.sanitize(inertMarkup(html, config), config);
}

/**
 * Return a safe fragment for `text` rendered as Markdown (`final`: the text is
 * complete). `sources` (a reply's web-search results) and `messageId` link its
 * citation markers; `maths: false` leaves LaTeX as text.
 */
export function renderMarkdown(text, { final = true, sources = null, messageId = null, maths = true } = {}) {
  const extracted = maths ? extractMaths(text || "", { final }) : { text: text || "", formulas: [] };
  const fragment = sanitize(marked.parse(extracted.text));
  imagesToLinks(fragment);
  for (const code of fragment.querySelectorAll("pre > code")) {
    decorateCode(code, final);
  }
  insertMaths(fragment, extracted.formulas);
  if (sources && sources.length) linkCitations(fragment, sources, messageId);
  for (const table of fragment.querySelectorAll("table")) {
    const wrap = el("div", "table-wrap");
    table.replaceWith(wrap);
    wrap.append(table);
  }
  return fragment;
}

// Remote images would load on render, which lets a reply report back to any server
// (a tracking pixel or data smuggled in the URL). They become plain links instead.
function imagesToLinks(root) {
  for (const img of root.querySelectorAll("img")) {
    const src = img.getAttribute("src") || "";
    const label = img.getAttribute("alt") || src;
    if (/^https?:\/\//i.test(src)) {
      const link = el("a", "image-link", format(gettext("Image: %(label)s"), { label }));
      link.href = src;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      img.replaceWith(link);
    } else {
      img.replaceWith(document.createTextNode(label));
    }
  }
}

function decorateCode(code, final) {
  const pre = code.parentElement;
  const match = (code.className || "").match(/language-([\w.+#-]+)/);
  const requested = match ? match[1].toLowerCase() : "";
  const text = code.textContent;
  let result = null;
  try {
    if (requested && hljs.getLanguage(requested)) {
      result = hljs.highlight(text, { language: requested, ignoreIllegals: true });
    } else if (final && text.length <= MAX_AUTO_HIGHLIGHT) {
      result = hljs.highlightAuto(text);
    }
  } catch {
    result = null;
  }
  if (result) {
    code.replaceChildren(sanitize(result.value, HIGHLIGHT_CONFIG));
    code.classList.add("hljs");
  }
  const block = el("div", "code-block");
  const bar = el("div", "code-bar");
  const label = el("span", "code-lang", requested || (result && result.language) || "");
  const copy = button("copy-code", gettext("Copy code"), "copy-code");
  bar.append(label, copy);
  pre.replaceWith(block);
  block.append(bar, pre);
}

/** Copy `text` to the clipboard; resolve to whether it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older browsers and non-secure origins: a temporary textarea and execCommand.
    const area = el("textarea", "offscreen");
    area.value = text;
    area.setAttribute("readonly", "");
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}
