// Drives the playground in headless Chromium (Debian's chromium, through playwright-core): picks
// a demo identity, runs an operation, and reads the Decisions panel. Prints a JSON summary for
// the Go test that runs it (cmd/wvsoft/playground_test.go) and saves a screenshot. The window is
// 1280 pixels wide, the narrowest the panel is made for; the ids are measured there and at 1920.
//
// Usage: node test/decisions.mjs BASE_URL SCREENSHOT.png
import { chromium } from 'playwright-core';

const [base, screenshot] = process.argv.slice(2);
const origin = new URL(base).origin;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const summary = { otherHosts: [], runs: [], ids: [] };

// idsAsShown measures every rule id, field name and record attribute in the panel: an id that
// the browser laid out over more than one line box is broken; one whose right edge lies beyond
// the visible pane cannot be read without scrolling.
const idsAsShown = () => {
  const pane = document.querySelector('[data-testid="decisions"]').closest('.graphiql-plugin') ?? document.body;
  const edge = pane.getBoundingClientRect().right;
  return [...document.querySelectorAll('[data-testid="decisions"] table code, [data-testid="decisions"] table .wv-id')].map((el) => {
    const lines = new Set([...el.getClientRects()].map((r) => Math.round(r.top))).size;
    return { id: el.textContent, lines, clipped: el.getBoundingClientRect().right > edge + 0.5 };
  });
};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.origin !== origin) summary.otherHosts.push(req.url());
  });
  await page.goto(`${base}/playground/`);
  await page.waitForSelector('[data-testid="decisions"]');
  await page.waitForSelector('[data-testid="identity"] option[value="support@wvsoft.example"]', { state: 'attached' });

  // run acts as identity, runs query, and waits until the panel shows a decision about field.
  async function run(identity, query, field) {
    await page.selectOption('[data-testid="identity"]', identity);
    await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), query);
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(
      (f) => [...document.querySelectorAll('[data-testid="decisions"] table tbody tr')].some((tr) => tr.querySelector('.wv-field')?.textContent === f),
      field,
    );
    const rows = await page.$$eval('[data-testid="decisions"] table tbody tr', (trs) =>
      trs.map((tr) => ({
        field: tr.querySelector('.wv-field').textContent,
        effect: tr.dataset.effect,
        rule: tr.cells[2].textContent,
        color: getComputedStyle(tr.cells[1]).color,
      })),
    );
    summary.runs.push({ identity, rows });
  }

  await run('member@bakkerij-de-vries.example', '{ persons(first: 3) { edges { node { name bsn iban } } } }', 'Person.bsn');
  await run('support@wvsoft.example', '{ customers(first: 3) { edges { node { name iban kvkNumber contactPersons { name email } } } } }',
    'Customer.iban');
  await page.waitForTimeout(300); // let the last rows paint
  summary.ids.push({ width: 1280, ids: await page.evaluate(idsAsShown) });
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.setViewportSize({ width: 1920, height: 1000 });
  await page.waitForTimeout(300);
  summary.ids.push({ width: 1920, ids: await page.evaluate(idsAsShown) });
} catch (err) {
  // What the page showed when it failed, for whoever reads the test's output.
  const pages = browser.contexts().flatMap((c) => c.pages());
  if (pages.length) await pages[0].screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  console.error(`failed; the page is in ${screenshot}`);
  throw err;
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
