// LaTeX in answers, drawn by KaTeX (vendored: static/vendor/katex-0.19.1).
//
// The formulas are taken out of the text before Markdown sees it (Markdown would eat
// the backslashes of `\(` and `\\`), replaced by placeholders, and put back as KaTeX
// nodes after the sanitiser has run on the rest. KaTeX builds its nodes with DOM
// calls (styles through the CSSOM, which the page's CSP allows; a `style="…"` string
// would be refused), from `trust: false` input: `\href`, `\url`, `\includegraphics`
// and `\html…` draw as plain red text, never as links, images or markup. Formulas too
// long, too many or too big fall back to their source as text.
//
// Delimiters: `$$…$$`, `\[…\]` (display), `\(…\)`, `$…$` (inline). A `$` opens maths
// only when a non-blank follows it and closes only after a non-blank, not before a
// digit (pandoc's rule), so "$5 and $10" stays money. Code spans and fenced blocks
// are never searched.

import katex from "../vendor/katex-0.19.1/katex.mjs";
import { el } from "./dom.js";

const MAX_FORMULA_CHARS = 2000;
const MAX_FORMULAS = 300;
const CACHE_LIMIT = 500;
const OPTIONS = {
  throwOnError: false,
  trust: false,
  strict: "ignore",
  maxSize: 10, // em: \rule{1000em}{…} cannot cover the page
  maxExpand: 300, // macro expansions: \def loops end
  output: "htmlAndMathml",
};

// Private-use characters mark where a formula was; any in the text itself are dropped.
const OPEN = "\uE000";
const CLOSE = "\uE001";
const MARK_RE = /\uE000(\d+)\uE001/g;
const FENCE_RE = /^ {0,3}(`{3,}|~{3,})/;

// KaTeX's tree per formula (its toNode() builds fresh DOM each time, so a streamed
// reply re-drawn every frame parses each formula once and never flickers).
const cache = new Map();

/**
 * Return `{text, formulas}`: `text` with each formula replaced by a placeholder,
 * `formulas` as `{tex, source, display}`. With `final` false (still streaming), an
 * unclosed display formula at the end is held back as pending instead of shown raw.
 */
export function extractMaths(text, { final = true } = {}) {
  const formulas = [];
  const out = [];
  let fence = null;
  const lines = String(text || "").replace(/[\uE000\uE001]/g, "").split("\n");
  let prose = [];
  const flush = () => {
    if (prose.length) out.push(scan(prose.join("\n"), formulas, final));
    prose = [];
  };
  for (const line of lines) {
    const match = line.match(FENCE_RE);
    if (fence) {
      out.push(line);
      if (match && match[1][0] === fence[0] && match[1].length >= fence.length) fence = null;
    } else if (match) {
      flush();
      fence = match[1];
      out.push(line);
    } else {
      prose.push(line);
    }
  }
  flush();
  return { text: out.join("\n"), formulas };
}

function placeholder(formulas, tex, source, display, pending = false) {
  formulas.push({ tex, source, display, pending });
  return `${OPEN}${formulas.length - 1}${CLOSE}`;
}

function scan(text, formulas, final) {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "`") {
      // A code span: copied as it is, up to the same run of backticks.
      let n = 1;
      while (text[i + n] === "`") n += 1;
      const run = "`".repeat(n);
      const end = text.indexOf(run, i + n);
      const stop = end === -1 ? i + n : end + n;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === "\\" && (text[i + 1] === "(" || text[i + 1] === "[")) {
      const display = text[i + 1] === "[";
      const closer = display ? "\\]" : "\\)";
      const end = text.indexOf(closer, i + 2);
      if (end !== -1 && text.slice(i + 2, end).trim()) {
        out += placeholder(formulas, text.slice(i + 2, end), text.slice(i, end + 2), display);
        i = end + 2;
        continue;
      }
      if (display && end === -1 && !final) {
        out += placeholder(formulas, "", text.slice(i), true, true);
        break;
      }
    }
    if (c === "\\" && text[i + 1] === "$") {
      out += "\\$";
      i += 2;
      continue;
    }
    if (c === "$" && text[i + 1] === "$") {
      const end = text.indexOf("$$", i + 2);
      if (end !== -1 && text.slice(i + 2, end).trim()) {
        out += placeholder(formulas, text.slice(i + 2, end), text.slice(i, end + 2), true);
        i = end + 2;
        continue;
      }
      if (end === -1 && !final) {
        out += placeholder(formulas, "", text.slice(i), true, true);
        break;
      }
      out += "$$";
      i += 2;
      continue;
    }
    if (c === "$") {
      const end = closingDollar(text, i);
      if (end !== -1) {
        out += placeholder(formulas, text.slice(i + 1, end), text.slice(i, end + 1), false);
        i = end + 1;
        continue;
      }
    }
    out += c;
    i += 1;
  }
  return out;
}

// The `$` closing inline maths opened at `start`, or -1: a non-blank right after the
// opener, a non-blank right before the closer, no digit right after it, no blank line.
function closingDollar(text, start) {
  if (!text[start + 1] || /\s/.test(text[start + 1])) return -1;
  for (let j = start + 1; j < text.length; j += 1) {
    if (text[j] === "\n" && text[j + 1] === "\n") return -1;
    if (text[j] === "\\") {
      j += 1;
      continue;
    }
    if (text[j] !== "$") continue;
    if (/\s/.test(text[j - 1]) || /\d/.test(text[j + 1] || "")) return -1;
    return j;
  }
  return -1;
}

function tree(tex, display) {
  const key = `${display ? "D" : "I"}${tex}`;
  let found = cache.get(key);
  if (!found) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    found = katex.__renderToDomTree(tex, { ...OPTIONS, displayMode: display });
    cache.set(key, found);
  }
  return found;
}

/** Return the node drawing one formula (its source kept for copying). */
function formulaNode(formula, index) {
  const node = el("span", formula.display ? "math math-display" : "math math-inline");
  node.dataset.tex = formula.source;
  if (formula.pending) {
    // Still streaming: the formula is not closed yet, so nothing to draw.
    node.classList.add("math-pending");
    node.textContent = "…";
    return node;
  }
  if (index >= MAX_FORMULAS || formula.tex.length > MAX_FORMULA_CHARS) {
    node.classList.add("math-source");
    node.textContent = formula.source;
    return node;
  }
  try {
    node.append(tree(formula.tex, formula.display).toNode());
  } catch {
    node.classList.add("math-source");
    node.textContent = formula.source;
  }
  // Belt and braces behind trust: false: no link or image ever leaves KaTeX.
  for (const bad of node.querySelectorAll("a, img, iframe, object, embed")) {
    bad.replaceWith(document.createTextNode(bad.textContent || ""));
  }
  return node;
}

/** Replace the placeholders in the sanitised `root` with the formulas drawn. */
export function insertMaths(root, formulas) {
  if (!formulas.length) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const hits = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeValue.includes(OPEN)) hits.push(node);
  }
  for (const node of hits) {
    const parts = [];
    let last = 0;
    const value = node.nodeValue;
    for (const match of value.matchAll(MARK_RE)) {
      const formula = formulas[Number(match[1])];
      if (!formula) continue;
      if (match.index > last) parts.push(document.createTextNode(value.slice(last, match.index)));
      // Inside code (Markdown put it there), the source is shown as it was written.
      parts.push(
        node.parentElement?.closest("code")
          ? document.createTextNode(formula.source)
          : formulaNode(formula, Number(match[1])),
      );
      last = match.index + match[0].length;
    }
    if (last < value.length) parts.push(document.createTextNode(value.slice(last)));
    node.replaceWith(...parts);
  }
}

/** Copying a selection that holds formulas gives their LaTeX source, not the glyphs. */
export function installMathCopy(root) {
  root.addEventListener("copy", (event) => {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
    const box = document.createElement("div");
    for (let i = 0; i < selection.rangeCount; i += 1) {
      box.append(selection.getRangeAt(i).cloneContents());
    }
    const partial = selection.getRangeAt(0).commonAncestorContainer;
    const inside = (partial.nodeType === 1 ? partial : partial.parentElement)?.closest(".math");
    if (inside) {
      event.clipboardData.setData("text/plain", inside.dataset.tex || "");
      event.preventDefault();
      return;
    }
    const maths = box.querySelectorAll(".math");
    if (!maths.length) return;
    for (const node of maths) node.replaceWith(document.createTextNode(node.dataset.tex || ""));
    event.clipboardData.setData("text/plain", box.textContent);
    event.preventDefault();
  });
}
