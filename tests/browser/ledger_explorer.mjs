// Opens the hub's ledger explorer in headless Chromium with every request
// beyond loopback refused: reads the checkpoint, searches entries by kind,
// opens the first and checks its inclusion proof, then checks it again
// with one hash of the proof altered on its way to the page. Prints what
// the page said, as JSON.
//
// usage: node ledger_explorer.mjs <hub base url> <kind> <screenshot.png>
import { chromium } from 'playwright-core';

const [base, kind, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const outcome = { blocked: [], errors: [] };
let tamper = false;
try {
  const page = await browser.newPage();
  await page.route('**/*', async (route) => {
    const request = route.request();
    const host = new URL(request.url()).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') {
      outcome.blocked.push(request.url());
      return route.abort();
    }
    if (tamper && request.method() === 'POST' && (request.postData() || '').includes('inclusionProof')) {
      const response = await route.fetch();
      const body = await response.json();
      const hashes = body.data.inclusionProof.hashes;
      // Flip one bit of the first hash (or forge one when the tree has a single entry).
      const first = hashes.length ? atob(hashes[0]) : '\0'.repeat(32);
      hashes[0] = btoa(String.fromCharCode(first.charCodeAt(0) ^ 1) + first.slice(1));
      return route.fulfill({ response, json: body });
    }
    return route.continue();
  });
  page.on('pageerror', (error) => outcome.errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') outcome.errors.push(message.text());
  });
  await page.goto(`${base}/ledger`, { waitUntil: 'load' });
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('checkpoint-size').textContent));
  outcome.checkpointSize = Number(await page.textContent('#checkpoint-size'));
  outcome.witnesses = await page.textContent('#checkpoint-witnesses');
  await page.fill('#search-kind', kind);
  await page.click('#search button[type=submit]');
  await page.locator('#results tbody tr').first().waitFor({ timeout: 15000 });
  outcome.found = await page.locator('#results tbody tr').count();
  outcome.status = await page.textContent('#search-status');
  await page.locator('#results tbody tr button').first().click();
  outcome.entryTitle = await page.textContent('#entry-title');
  const check = async () => {
    await page.click('#check-proof');
    await page.waitForFunction(() => {
      const text = document.getElementById('proof-result').textContent;
      return text && text !== 'Checking…';
    }, null, { timeout: 15000 });
    return {
      text: await page.textContent('#proof-result'),
      holds: (await page.getAttribute('#proof-result', 'class')) === 'holds',
    };
  };
  outcome.genuine = await check();
  await page.screenshot({ path: screenshot, fullPage: true });
  // The entry's subject finds every entry about that subject.
  const subject = await page.evaluate(() => {
    const terms = Array.from(document.querySelectorAll('#entry-fields dt'));
    return terms.find((dt) => dt.textContent === 'subject').nextElementSibling.textContent;
  });
  await page.fill('#search-kind', '');
  await page.fill('#search-subject', subject);
  await page.click('#search button[type=submit]');
  await page.waitForFunction(() => /^\d+ entr/.test(document.getElementById('search-status').textContent));
  outcome.aboutSubject = await page.locator('#results tbody tr').count();
  tamper = true;
  outcome.tampered = await check();
} catch (error) {
  outcome.errors.push(String(error));
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
