// Runs a subscription in the playground in headless Chromium (Debian's chromium, through
// playwright-core): picks the demo admin, starts a subscription, prints SUBSCRIBED once the page
// opened its WebSocket, waits for an event the Go test then causes (until one arrives), and
// prints a JSON summary (cmd/wvsoft/playground_test.go) with the hosts the page reached.
//
// Usage: node test/subscriptions.mjs BASE_URL SCREENSHOT.png
import { chromium } from 'playwright-core';

const [base, screenshot] = process.argv.slice(2);
// A page that never shows the event must not hold the test: give up after a while.
setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, 40000).unref();
const origin = new URL(base);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const summary = { otherHosts: [], sockets: [], result: '' };
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.origin !== origin.origin) summary.otherHosts.push(req.url());
  });
  page.on('websocket', (ws) => {
    summary.sockets.push(ws.url());
    if (new URL(ws.url()).host !== origin.host) summary.otherHosts.push(ws.url());
  });
  await page.goto(`${base}/playground/`);
  await page.waitForSelector('[data-testid="identity"] option[value="admin@bakkerij-de-vries.example"]', { state: 'attached' });
  await page.selectOption('[data-testid="identity"]', 'admin@bakkerij-de-vries.example');
  await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q),
    'subscription { supportAccessGrants { status reason } }');
  const opened = page.waitForEvent('websocket', { timeout: 15000 });
  await page.click('.graphiql-execute-button');
  await opened;
  console.log('SUBSCRIBED');
  // The page's CSP allows no eval: the functions are passed as functions.
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? '').includes('PENDING'),
    null, { timeout: 15000 });
  summary.result = await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (err) {
  const pages = browser.contexts().flatMap((c) => c.pages());
  if (pages.length) await pages[0].screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  console.error(`failed; the page is in ${screenshot}`);
  throw err;
} finally {
  await Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 5000))]);
}
console.log(JSON.stringify(summary));
// The browser's processes may linger with the open WebSocket; the result is out.
process.exit(0);
