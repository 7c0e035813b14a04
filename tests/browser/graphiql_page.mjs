// Opens the hub's GraphiQL in headless Chromium with every request beyond
// loopback refused, runs the operation it opens with and prints, as JSON,
// the operation, the result and anything that went wrong.
//
// usage: node graphiql_page.mjs <graphql url> <screenshot.png> <text the result must hold>
import { chromium } from 'playwright-core';

const [url, screenshot, expected] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const outcome = { blocked: [], errors: [] };
try {
  const page = await browser.newPage();
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    outcome.blocked.push(route.request().url());
    return route.abort();
  });
  page.on('pageerror', (error) => outcome.errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') outcome.errors.push(message.text());
  });
  await page.goto(url, { waitUntil: 'load' });
  const run = page.locator('.graphiql-execute-button');
  await run.waitFor({ state: 'visible', timeout: 30000 });
  const editorText = (selector) => page.evaluate(
    (s) => document.querySelector(s)?.CodeMirror?.getValue() ?? null, selector);
  outcome.query = await editorText('.graphiql-query-editor .CodeMirror');
  await run.click();
  await page.waitForFunction(
    (text) => document.querySelector('.result-window .CodeMirror')?.CodeMirror?.getValue().includes(text),
    expected, { timeout: 30000 });
  outcome.result = JSON.parse(await editorText('.result-window .CodeMirror'));
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (error) {
  outcome.errors.push(String(error));
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
