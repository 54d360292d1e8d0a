// The seat usage chart: seats in use per day across the whole term (GET …/usage) against
// the quantity in force, today marked, over-assigned days hatched and named in words. An
// SVG drawn here (no charting library), with the same figures as a table for screen
// readers and keyboard users.
import type { components } from "./openapi";
import { el } from "./dom";
import { date, number, period, t, type Lang } from "./i18n";

type Step = components["schemas"]["UsageStep"];
const SVG = "http://www.w3.org/2000/svg";
const [W, H, PAD] = [720, 180, 28];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const day = (iso: string) => Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / 864e5;

/** The SVG: seats in use per day (bars), the quantity in force (a dashed line), the days
 * over it hatched, today marked. */
function drawing(lang: Lang, steps: Step[], today: string, title: string, titleId: string): SVGSVGElement {
  const tx = t(lang);
  const [first, last] = [steps[0], steps[steps.length - 1]] as [Step, Step];
  const [start, end] = [day(first.from), day(last.until) + 1];
  const top = Math.max(1, ...steps.map((s) => Math.max(s.used, s.quantity)));
  const x = (d: number) => PAD + ((d - start) / (end - start)) * (W - 2 * PAD);
  const y = (n: number) => H - PAD - (n / top) * (H - 2 * PAD);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId, class: "usage" });
  chart.append(svg("title", { id: titleId }, title));
  const defs = svg("defs", {});
  const hatch = svg("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  hatch.append(svg("rect", { width: 6, height: 6, fill: "#fde0c5" }), svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#b34700", "stroke-width": 3 }));
  defs.append(hatch);
  chart.append(defs);
  for (const s of steps) {
    const [x0, x1] = [x(day(s.from)), x(day(s.until) + 1)];
    const used = Math.min(s.used, s.quantity);
    chart.append(svg("rect", { x: x0, y: y(used), width: Math.max(0.5, x1 - x0), height: y(0) - y(used), class: "used" }));
    if (s.used > s.quantity) {
      chart.append(svg("rect", { x: x0, y: y(s.used), width: Math.max(0.5, x1 - x0), height: y(s.quantity) - y(s.used), fill: "url(#hatch)", class: "over" }));
    }
    chart.append(svg("line", { x1: x0, x2: x1, y1: y(s.quantity), y2: y(s.quantity), class: "quantity" }));
  }
  const now = day(today);
  if (now >= start && now < end) {
    chart.append(svg("line", { x1: x(now), x2: x(now), y1: PAD - 8, y2: H - PAD, class: "today" }), svg("text", { x: x(now) + 3, y: PAD - 10, class: "label" }, tx.today));
  }
  chart.append(
    svg("text", { x: PAD, y: H - 8, class: "label" }, date(lang, first.from)),
    svg("text", { x: W - PAD, y: H - 8, class: "label", "text-anchor": "end" }, date(lang, last.until)),
    svg("text", { x: 2, y: y(top) + 4, class: "label" }, number(lang, top)),
  );
  return chart;
}

/** The same figures as a table, for screen readers and keyboard users. */
function figures(lang: Lang, steps: Step[]): HTMLTableElement {
  const tx = t(lang);
  const rows = steps.map((s) =>
    el("tr", {}, el("td", {}, period(lang, s.from, s.until)), el("td", { class: "num" }, number(lang, s.used)), el("td", { class: "num" }, number(lang, s.quantity))),
  );
  return el(
    "table",
    { class: "usage-table" },
    el("thead", {}, el("tr", {}, ...[tx.period, tx.usageUsed, tx.usageQuantity].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows),
  );
}

export function usageChart(lang: Lang, steps: Step[], today: string): HTMLElement {
  const tx = t(lang);
  if (!steps.length) return el("p", {}, tx.noUsage);
  const titleId = `usage-title-${Math.random().toString(36).slice(2)}`;
  const peak = steps.reduce((a, b) => (b.used > a.used ? b : a));
  const over = steps.filter((s) => s.used > s.quantity);
  const summary = tx.usageSummary(peak.used, peak.quantity, date(lang, peak.from)) + (over.length ? ` ${tx.usageOver(over.length)}` : "");
  const legend = el(
    "p",
    { class: "legend" },
    el("span", { class: "key used" }, tx.usageUsed),
    el("span", { class: "key quantity" }, tx.usageQuantity),
    el("span", { class: "key over" }, tx.usageOverKey),
  );
  return el(
    "section",
    { "aria-labelledby": `${titleId}-h` },
    el("h2", { id: `${titleId}-h` }, tx.usage),
    el("p", { class: "summary" }, summary),
    drawing(lang, steps, today, `${tx.usage}. ${summary}`, titleId),
    legend,
    el("details", {}, el("summary", {}, tx.usageAsTable), figures(lang, steps)),
  );
}
