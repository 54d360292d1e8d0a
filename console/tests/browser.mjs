// The console in headless Chromium (Debian's `chromium`, driven by playwright-core), used as
// a person uses it: a user's own access, an admin's overview, User Management (assign with
// the live preview, change, revoke, resend, history), the filter, German, sign-out. Run by
// tests/tests/console.rs against its own local stack, which then checks the result through
// the API and the SES emulator:
//   node console/tests/browser.mjs http://127.0.0.1:<gateway port>
// It prints one line per step and exits non-zero on the first failure.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
// With CONSOLE_SCREENSHOTS=<dir>, every screen is saved there as <name>.png.
const shots = process.env.CONSOLE_SCREENSHOTS;
if (shots) mkdirSync(shots, { recursive: true });

const [base, mode = "flows"] = process.argv.slice(2);
assert.ok(base, "usage: browser.mjs BASE_URL [flows|scale]");
const TECDOC = "lic_6CGKN22FHMWP935DWKR78NWDA8";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const step = (text) => console.log(`ok - ${text}`);
const budget = (pass, text) => console.log(`${pass ? "PASS" : "FAIL"} ${text}`);

// The console's budgets: its JavaScript (deterministic: the suite fails beyond it) and the
// first screen's time (printed only: it moves with the machine's load).
const assets = new URL("../dist/assets/", import.meta.url);
const js = readdirSync(assets).filter((f) => f.endsWith(".js"));
const gz = js.reduce((sum, f) => sum + gzipSync(readFileSync(new URL(f, assets))).length, 0);
budget(gz <= 100 * 1024, `console JavaScript ${(gz / 1024).toFixed(1)} KB gzipped (≤ 100 KB)`);
assert.ok(gz <= 100 * 1024, "the console's JavaScript budget");
try {
  const page = await browser.newPage({ locale: "en-GB" });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // axe-core in the page: no serious or critical accessibility violation on a screen.
  const accessible = async (screen) => {
    await page.addScriptTag({ path: axePath });
    const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
    const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`), [], `axe on ${screen}`);
    if (shots) await page.screenshot({ path: `${shots}/${screen}.png`, fullPage: true });
  };
  const signIn = async (name) => {
    await page.getByRole("button", { name }).click();
  };
  const signOut = async (label = "Sign out") => {
    await page.getByRole("button", { name: label }).click();
    await page.getByRole("heading", { name: /Sign in|Anmelden/ }).waitFor();
  };

  if (mode === "scale") {
    await scale(page, signIn);
  } else {
    await flows(page, signIn, signOut, accessible);
  }
  assert.deepEqual(errors, [], "no script errors");
} finally {
  await browser.close();
}

/** The other customer's 200 licences, one with 10,000 assignments, paged. */
async function scale(page, signIn) {
  await page.goto(`${base}/console/`);
  let scaled = Date.now();
  await signIn("Licence admin of cust-2002 (owner@other.example)");
  const table = page.getByRole("table", { name: "My Licenses" });
  await table.waitFor();
  const listed = await table.locator("tbody tr").count();
  const overview200 = Date.now() - scaled;
  assert.ok(listed >= 200, `the overview lists every licence: ${listed}`);
  const bigRow = table.getByRole("row").filter({ hasText: "10,001" });
  scaled = Date.now();
  await bigRow.getByRole("button").click();
  await page.getByRole("img", { name: /Seat usage\. At most 10,001 seats/ }).waitFor();
  const users10k = Date.now() - scaled;
  const shown = await page.locator("table.assignments tbody tr").count();
  assert.equal(shown, 20, "a page of 20, never all 10,000");
  const firstPage = await page.locator("table.assignments tbody tr th").first().textContent();
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByRole("button", { name: "Previous page" }).waitFor();
  assert.notEqual(await page.locator("table.assignments tbody tr th").first().textContent(), firstPage);
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.locator("table.assignments tbody tr th").first().filter({ hasText: firstPage }).waitFor();
  step(`at scale: ${listed} licences listed, 10,000 assignments paged by 20`);
  budget(overview200 <= 1000, `My Licenses with 200 licences: ${overview200} ms (≤ 1000 ms)`);
  budget(users10k <= 1000, `User Management of 10,000 assignments (first page, chart, history): ${users10k} ms (≤ 1000 ms)`);
}

/** Every flow, as a user and as an admin, in English and German. */
async function flows(page, signIn, signOut, accessible) {
  const started = Date.now();
  await page.goto(`${base}/console/`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  const firstScreen = Date.now() - started;
  step("the sign-in screen");
  await accessible("sign-in");

  // A user sees their own access (and no admin screens).
  await signIn("User anna@example.com of cust-1001");
  await page.getByRole("heading", { name: "My access" }).waitFor();
  const annaSeat = page.locator(`li[data-license="${TECDOC}"]`);
  assert.match(await annaSeat.textContent(), /TecDoc Catalogue — Access period: /);
  assert.equal(await page.getByRole("button", { name: "My Licenses" }).count(), 0, "users get no admin screens");
  await accessible("my-access");
  await signOut();
  step("a user's own access");

  const signedIn = Date.now();
  await signIn("Licence admin of cust-1001 (buyer@example.com)");
  const table = page.getByRole("table", { name: "My Licenses" });
  await table.waitFor();
  const overview = Date.now() - signedIn;
  const tecdoc = table.getByRole("row").filter({ hasText: "TecDoc Catalogue" });
  const cells = await tecdoc.getByRole("cell").allTextContents();
  // Current term, subscription, invoice, quantity, assigned, free, status.
  assert.equal(cells[3], "5", `quantity: ${cells}`);
  assert.equal(cells[4], "2", `assigned seats (the buyer and Anna): ${cells}`);
  assert.equal(cells[5], "3", `free seats: ${cells}`);
  assert.equal(cells[6], "Active");
  step("overview: TecDoc Catalogue with 5 seats, 2 assigned, 3 free");
  await accessible("my-licenses");

  // User Management of TecDoc Catalogue.
  await tecdoc.getByRole("button", { name: "TecDoc Catalogue" }).click();
  await page.getByRole("heading", { name: "User Management: TecDoc Catalogue" }).waitFor();
  const users = page.getByRole("table", { name: "User Management: TecDoc Catalogue" });
  const row = (email) => users.getByRole("row").filter({ hasText: email });
  await row("anna@example.com").waitFor();
  await page.getByRole("img", { name: /Seat usage\. At most 2 seats in use, with 5 bought/ }).waitFor();
  step("user management lists the assignments, with the seat usage chart");
  await accessible("user-management");

  await page.getByRole("button", { name: "Assign User" }).click();
  const emails = page.getByLabel("Email Addresses");
  await emails.fill('carl@example.com; "Meier, Bob" <bob@example.com>\ndora@example.com');
  await page.getByText("Takes 3 seats.").waitFor();
  step("assign: the live preview counts the seats a paste takes");
  await accessible("assign-user");
  await page.getByRole("dialog").getByRole("button", { name: "Assign" }).click();
  await page.getByText("3 users assigned.").waitFor();
  for (const email of ["bob@example.com", "carl@example.com", "dora@example.com"]) {
    await row(email).waitFor();
  }
  step("assign: three pasted addresses are assigned");

  await page.getByRole("button", { name: "Assign User" }).click();
  await emails.fill("not-an-address, eve@example.com");
  await page.getByRole("dialog").getByText("not-an-address", { exact: true }).waitFor();
  await emails.fill("eve@example.com");
  await page.getByText("Not enough free seats: 1 requested, 0 available over this period.").waitFor();
  await page.keyboard.press("Escape");
  assert.equal(await page.getByRole("dialog").count(), 0, "Escape closes the dialog");
  step("assign: invalid entries and missing seats are explained in place");

  await page.getByRole("button", { name: "Change: dora@example.com" }).click();
  await page.getByLabel("Until").fill("2027-06-30");
  await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
  await row("dora@example.com").filter({ hasText: "30 Jun 2027" }).waitFor();
  step("change: a shorter access period");

  await page.getByRole("button", { name: "Revoke: anna@example.com" }).click();
  await page.getByRole("dialog").getByText("Revoke the access of anna@example.com?").waitFor();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await row("anna@example.com").filter({ hasText: "Revoked" }).waitFor();
  step("revoke: confirmed, the row shows it revoked");

  await page.getByRole("button", { name: "Resend invitation: carl@example.com" }).click();
  await page.getByText(/Please wait 10 min/).waitFor();
  step("resend within 10 minutes: asked to wait");
  await page.locator("ol.history li").filter({ hasText: "assignment.revoked" }).first().waitFor();
  step("the licence's history shows the revocation");

  await page.getByRole("button", { name: "← Back to My Licenses" }).click();
  await table.waitFor();
  const over = table.getByRole("row").filter({ hasText: "Over-assigned: 2 seats more in use" });
  const rows = await table.getByRole("row").allTextContents();
  assert.equal(await over.count(), 1, `the over-assigned licence is flagged in words: ${rows.join(" | ")}`);
  step("an over-assigned licence carries a warning in words");
  await over.getByRole("button").click();
  await page.getByRole("img", { name: /Over-assigned on 1 stretch of days \(hatched\)/ }).waitFor();
  await page.getByText("Show as a table").click();
  await page.locator("table.usage-table td").filter({ hasText: /^3$/ }).first().waitFor();
  step("its chart names the over-assigned days in words and as a table");
  await accessible("usage-over-assigned");
  await page.getByRole("button", { name: "← Back to My Licenses" }).click();
  await table.waitFor();

  await page.getByLabel("Status").selectOption("expired");
  await table.getByRole("row").filter({ hasText: "Parts Archive" }).waitFor();
  assert.equal(await table.getByRole("row").filter({ hasText: "TecDoc" }).count(), 0);
  step("status filter: expired shows only the expired licence");

  await page.getByLabel("Language").selectOption("de");
  await page.getByRole("table", { name: "Meine Lizenzen" }).waitFor();
  assert.equal(await page.getAttribute("html", "lang"), "de");
  await page.getByLabel("Status").selectOption("");
  await accessible("meine-lizenzen");
  await page.getByRole("table", { name: "Meine Lizenzen" }).getByRole("button", { name: "TecDoc Catalogue" }).click();
  await page.getByRole("heading", { name: "Benutzerverwaltung: TecDoc Catalogue" }).waitFor();
  await accessible("benutzerverwaltung");
  await page.getByRole("button", { name: "← Zurück zu Meine Lizenzen" }).click();
  await page.getByRole("table", { name: "Meine Lizenzen" }).waitFor();
  step("German: headings, labels and dates follow");
  await signOut("Abmelden");
  await page.getByLabel("Sprache").selectOption("en");
  step("sign out");

  // After the admin's revoke, Anna's access no longer shows the seat.
  await signIn("User anna@example.com of cust-1001");
  await page.getByRole("heading", { name: "My access" }).waitFor();
  assert.equal(await annaSeat.count(), 0, "the revoked seat is gone");
  step("after a revoke, the user's access no longer shows it");
  budget(firstScreen <= 1000, `first screen interactive (sign-in, cold page load): ${firstScreen} ms (≤ 1000 ms)`);
  budget(overview <= 1000, `My Licenses after sign-in: ${overview} ms (≤ 1000 ms)`);
}
