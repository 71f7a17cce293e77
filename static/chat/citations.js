// Citation markers of web-search answers, linked to the numbered sources drawn below
// the answer (messages.js), with a preview (title, site, date) on hover, focus or tap.
//
// The platform cites a search result by its `refer` tag: `[ref_1]`, `【ref_1】`, or
// several in one bracket (`[ref_1, ref_2]`); chat/citations.py reads the same forms for
// the Markdown export. A marker naming no source of this reply stays plain text.
// Sources are untrusted (they are what a search engine returned): titles, sites and
// dates are text, and only http(s) addresses become links.

import { el } from "./dom.js";
import { format, gettext } from "./i18n.js";

const MARKER_RE = /[[【]\s*(ref_\d+(?:\s*[,，]\s*ref_\d+)*)\s*[\]】]/gi;
const TAG_RE = /ref_\d+/gi;

/** Return whether `link` may be a link: a web address, nothing else. */
export function isWebLink(link) {
  return /^https?:\/\/[^\s]+$/i.test(String(link || ""));
}

/** Return the site a source names: its media name, else the link's host. */
export function siteOf(item) {
  if (item.media) return String(item.media);
  try {
    return new URL(String(item.link)).hostname;
  } catch {
    return "";
  }
}

/** Return each source's tag ("ref_1", lower case) -> its number in the list (1-based). */
export function sourceNumbers(sources) {
  const numbers = new Map();
  (sources || []).forEach((item, index) => {
    const refer = String(item?.refer || "").trim().toLowerCase();
    if (refer && !numbers.has(refer)) numbers.set(refer, index + 1);
  });
  return numbers;
}

/** The id of a reply's source `number`, the target of its markers' links. */
export function sourceAnchor(messageId, number) {
  return `source-${messageId}-${number}`;
}

/** Link the markers in `root` (a reply's sanitised body) to `sources`. */
export function linkCitations(root, sources, messageId) {
  const numbers = sourceNumbers(sources);
  if (!numbers.size) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const hits = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement?.closest("code, pre, a, .math")) continue;
    MARKER_RE.lastIndex = 0;
    if (MARKER_RE.test(node.nodeValue)) hits.push(node);
  }
  for (const node of hits) {
    const value = node.nodeValue;
    const parts = [];
    let last = 0;
    for (const match of value.matchAll(MARKER_RE)) {
      const tags = match[1].match(TAG_RE).map((tag) => tag.toLowerCase());
      if (!tags.every((tag) => numbers.has(tag))) continue;
      if (match.index > last) parts.push(document.createTextNode(value.slice(last, match.index)));
      for (const tag of tags) {
        const number = numbers.get(tag);
        parts.push(citation(sources[number - 1], number, messageId));
      }
      last = match.index + match[0].length;
    }
    if (!parts.length) continue;
    if (last < value.length) parts.push(document.createTextNode(value.slice(last)));
    node.replaceWith(...parts);
  }
}

function citation(item, number, messageId) {
  const sup = el("sup", "cite");
  const link = el("a", "cite-link", String(number));
  link.href = `#${sourceAnchor(messageId, number)}`;
  const title = String(item.title || item.link || item.refer || "");
  link.setAttribute("aria-label", format(gettext("Source %(number)s: %(title)s"), { number, title }));
  const preview = el("span", "cite-preview");
  preview.setAttribute("role", "tooltip");
  preview.append(el("span", "cite-preview-title", title));
  const meta = [siteOf(item), item.publish_date ? String(item.publish_date) : ""]
    .filter(Boolean)
    .join(" · ");
  if (meta) preview.append(el("span", "cite-preview-meta", meta));
  sup.append(link, preview);
  return sup;
}

/** Open or close a citation's preview on tap (hover and focus show it through CSS). */
export function toggleCitation(sup) {
  const open = !sup.classList.contains("open");
  for (const other of document.querySelectorAll(".cite.open")) other.classList.remove("open");
  sup.classList.toggle("open", open);
  return open;
}
