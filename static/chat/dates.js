// Dates and relative times in the page's language (<html lang>, which the server set
// from the user's choice), through Intl: the browser knows every language's words and
// order ("3 分钟前", "3 minutes ago", "昨天", "yesterday"), so no catalog entry is needed.

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Past this age a relative time says less than the date itself.
const RELATIVE_UP_TO = 7 * DAY;
const REFRESH_MS = 60_000;

const formatters = new Map();
let refreshing = false;

function language() {
  return document.documentElement.lang || navigator.language;
}

/** Return a cached Intl formatter (making one costs more than formatting). */
function formatter(kind, options) {
  const key = `${kind}|${language()}|${JSON.stringify(options)}`;
  if (!formatters.has(key)) {
    const Kind = kind === "relative" ? Intl.RelativeTimeFormat : Intl.DateTimeFormat;
    formatters.set(key, new Kind(language(), options));
  }
  return formatters.get(key);
}

/** Return `iso` as a date and time: "2026年1月16日 09:30", "Jan 16, 2026, 9:30 AM". */
export function dateTime(iso) {
  return formatter("date", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/**
 * Return how long ago `iso` was ("刚刚", "5 minutes ago", "yesterday"); past a week,
 * the date ("Jan 16, 2026").
 */
export function relativeTime(iso, now = Date.now()) {
  const then = new Date(iso);
  const seconds = Math.round((then.getTime() - now) / 1000);
  const age = Math.abs(seconds);
  if (age >= RELATIVE_UP_TO) return formatter("date", { dateStyle: "medium" }).format(then);
  const words = formatter("relative", { numeric: "auto" });
  if (age < MINUTE) return words.format(0, "second");
  if (age < HOUR) return words.format(Math.round(seconds / MINUTE), "minute");
  if (age < DAY) return words.format(Math.round(seconds / HOUR), "hour");
  return words.format(Math.round(seconds / DAY), "day");
}

/**
 * Return a <time> showing how long ago `iso` was, the full date in its tooltip; every
 * such element on the page is brought up to date each minute.
 */
export function timeElement(iso, className) {
  if (!refreshing) {
    refreshing = true;
    setInterval(() => refreshTimes(document), REFRESH_MS);
  }
  const node = document.createElement("time");
  node.className = `relative ${className}`;
  node.dateTime = iso;
  node.textContent = relativeTime(iso);
  node.title = dateTime(iso);
  return node;
}

/** Bring the relative times under `root` up to date. */
function refreshTimes(root) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time.relative[datetime]")) {
    node.textContent = relativeTime(node.dateTime, now);
  }
}
