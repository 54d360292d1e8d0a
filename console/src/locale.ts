// The UI language as a locale: every date and number the console shows, and the plural
// forms of its count texts, go through `locale()`.

export type Lang = "en" | "de";

/** The BCP 47 locale of a UI language (British English: day before month, 24 h). */
export function locale(lang: Lang): string {
  return lang === "de" ? "de-DE" : "en-GB";
}

/** One formatter per language, made on first use (a page formats hundreds of figures). */
function perLang<F>(make: (locale: string) => F): (lang: Lang) => F {
  const made = new Map<Lang, F>();
  return (lang) => {
    const found = made.get(lang) ?? make(locale(lang));
    made.set(lang, found);
    return found;
  };
}

const dates = perLang((l) => new Intl.DateTimeFormat(l, { dateStyle: "medium", timeZone: "UTC" }));
const moments = perLang((l) => new Intl.DateTimeFormat(l, { dateStyle: "medium", timeStyle: "short" }));
const numbers = perLang((l) => new Intl.NumberFormat(l));
const plurals = perLang((l) => new Intl.PluralRules(l));

/** A calendar date (YYYY-MM-DD) in the user's locale, without a time zone shift. */
export function date(lang: Lang, iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  return dates(lang).format(new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)));
}

/** A span of calendar dates, both ends inclusive: "1 Jan 2027 – 31 Dec 2027". */
export function period(lang: Lang, from: string, until: string): string {
  return `${date(lang, from)} – ${date(lang, until)}`;
}

/** A moment (an ISO timestamp) with date and time, in the user's own time zone. */
export function moment(lang: Lang, iso: string): string {
  return moments(lang).format(new Date(iso));
}

/** A number with the locale's grouping: 10,001 / 10.001. */
export function number(lang: Lang, n: number): string {
  return numbers(lang).format(n);
}

/** The words for a count by plural category; `other` is required, the rest as the language has them. */
export type Forms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

/** The form of `forms` that `n` takes in `lang` (Intl.PluralRules), without the number. */
export function form(lang: Lang, n: number, forms: Forms): string {
  return forms[plurals(lang).select(n)] ?? forms.other;
}

/** A count with its noun: "1 seat", "2 seats", "1 Platz", "10.001 Plätze". */
export function count(lang: Lang, n: number, forms: Forms): string {
  return `${number(lang, n)} ${form(lang, n, forms)}`;
}
