// Small line icons drawn with SVG (no icon font, no emoji: both can be missing).

const PATHS = {
  rename: "M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4",
  pin: "M9 3h6l-1 7 4 4H6l4-4-1-7zM12 14v7",
  unpin: "M9 3h6l-1 7 4 4H6l4-4-1-7zM12 14v7M3 3l18 18",
  archive: "M3 4h18v5H3zM5 9v11h14V9M10 13h4",
  unarchive: "M3 4h18v5H3zM5 9v11h14V9M12 18v-6M9 15l3-3 3 3",
  delete: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6",
};

/** Return an <svg> element for icon `name` (aria-hidden; label the button instead). */
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name] || "");
  svg.append(path);
  return svg;
}
