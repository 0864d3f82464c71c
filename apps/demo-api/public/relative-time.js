// "2 minutes ago", "yesterday", "in 3 weeks": a time as people say it, for the "Your devices" page.
// Under a minute either way is "just now"; past that, the largest whole unit, rounded toward zero.
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS = [
  ["year", 365 * DAY],
  ["month", 30 * DAY],
  ["week", 7 * DAY],
  ["day", DAY],
  ["hour", HOUR],
  ["minute", MINUTE],
];

export function relativeTime(then, now = Date.now(), locale = "en") {
  const elapsed = now - then;
  if (Math.abs(elapsed) < MINUTE) return "just now";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const [unit, size] = UNITS.find(([, size]) => Math.abs(elapsed) >= size);
  return format.format(-Math.trunc(elapsed / size), unit);
}
