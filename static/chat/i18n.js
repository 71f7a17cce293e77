// Translated UI strings come from Django's JavaScript catalog (the djangojs domain,
// `manage.py makemessages -d djangojs`), which the template loads with a classic
// <script> before these modules run (modules are deferred). Scripts call gettext()
// and ngettext() with literal msgids, so makemessages finds every one of them.

const catalog = globalThis;

/** Return the translation of `msgid`. */
export function gettext(msgid) {
  return catalog.gettext(msgid);
}

/** Return the translation of `singular`/`plural` for `count`. */
export function ngettext(singular, plural, count) {
  return catalog.ngettext(singular, plural, count);
}

/** Return `text` with its %(name)s placeholders filled from `values`. */
export function format(text, values) {
  return catalog.interpolate(text, values, true);
}
