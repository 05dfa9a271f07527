// End-to-end test of the Tandem dashboard in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core). Every step is done through the page the way an operator would,
// then checked through the REST API, which this script calls itself.
//
// Run by tests/tests/dashboard.rs, which starts the servers and sets:
//   TANDEM_URL          http://127.0.0.1:PORT of the server under test (API listener)
//   TANDEM_TOKEN        its administrator token
//   TANDEM_PEER_DNS     127.0.0.1:PORT of a second Tandem serving multi.dash.test at serial 3
//   TANDEM_DEAD_PORT    a loopback port where nothing listens, for peers that never answer
//   TANDEM_SCREENSHOTS  folder for the screenshots of the main pages (default: target/ of
//                       the repository)

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = must('TANDEM_URL');
const TOKEN = must('TANDEM_TOKEN');
const PEER_DNS = must('TANDEM_PEER_DNS');
const DEAD_PORT = Number(must('TANDEM_DEAD_PORT'));
// By default in the repository's target/, which git ignores.
const SHOTS = process.env.TANDEM_SCREENSHOTS
  || fileURLToPath(new URL('../../target/dashboard-screenshots/', import.meta.url));
const STEP_TIMEOUT = 15000;

function must(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// ---- the REST API, to check what the page did ----

async function api(method, path, body) {
  const response = await fetch(`${BASE}/client/v4${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  return { status: response.status, data };
}

async function ok(method, path, body) {
  const { status, data } = await api(method, path, body);
  assert.equal(status, 200, `${method} ${path}: ${JSON.stringify(data)}`);
  return data.result;
}

let account;
const byName = (list, name) => list.find((o) => o.name === name);
const zoneByName = async (name) => (await ok('GET', `/zones?name=${name}`))[0];
const peers = async () => ok('GET', `/accounts/${account}/secondary_dns/peers`);

// ---- the browser ----

const userDataDir = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
mkdirSync(SHOTS, { recursive: true });
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
});
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(STEP_TIMEOUT);
const problems = [];
page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
page.on('console', (m) => {
  // The browser logs every refused request (the 400s and 404s the steps provoke on purpose);
  // responses are checked where it matters, through `responses`.
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
});
/** Every response the page received: `{status, url}`, in order. */
const responses = [];
page.on('response', (r) => responses.push({ status: r.status(), url: r.url() }));

/** The colours of the status line: success and failure (style.css --ok and --bad). */
const OK_COLOUR = 'rgb(17, 99, 41)';
const ERROR_COLOUR = 'rgb(164, 14, 38)';

/** The status line's class and computed text colour. */
async function statusLook() {
  return page.locator('#status').evaluate((node) => ({ className: node.className, color: getComputedStyle(node).color }));
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The status line's last announcement. */
async function expectStatus(text) {
  await page.locator('#status').filter({ hasText: text }).waitFor();
}

async function dialogAnswer(confirm) {
  const dialog = page.locator('dialog.confirm');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: confirm ? /^(Delete|Remove)/ : 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
}

async function checkPicker(form, names) {
  for (const name of names) await form.locator(`li[data-peer="${name}"] input`).check();
}

async function openZone(name) {
  await page.goto(`${BASE}/#/`);
  await page.locator('#zone-table').getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

// ---- the steps ----

async function signIn() {
  await page.goto(`${BASE}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await shot('01-sign-in');
  await page.getByLabel('API token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-error-for="token"]').filter({ hasText: 'not accepted' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tandem.token')), null);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Zones' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tandem.token')), TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  account = (await ok('GET', '/accounts'))[0].id;
}

async function createTsig() {
  await page.getByRole('link', { name: 'Account settings' }).click();
  const form = page.locator('#tsigs-form');
  await form.getByLabel('Key name').fill('k1.dash.test.');
  await form.getByLabel('Algorithm').selectOption('hmac-sha256');
  await form.getByRole('button', { name: 'Add TSIG key' }).click();
  await expectStatus('TSIG key k1.dash.test. added');
  const keys = await ok('GET', `/accounts/${account}/secondary_dns/tsigs`);
  const key = byName(keys, 'k1.dash.test.');
  assert.ok(key, 'the TSIG key exists');
  assert.equal(key.algo, 'hmac-sha256.');
  assert.equal(Buffer.from(key.secret, 'base64').length, 32, 'a generated 256-bit secret');
  // The generated secret is shown, and the copy button puts it on the clipboard.
  const row = page.locator('#tsigs-table tr[data-name="k1.dash.test."]');
  await row.locator('code.secret').filter({ hasText: key.secret }).waitFor();
  await row.getByRole('button', { name: 'Copy the secret of k1.dash.test.' }).click();
  await expectStatus('copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key.secret);
  return key;
}

async function createPeer(name, ip, port, tsigName) {
  const form = page.locator('#peers-form');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('IP address').fill(ip);
  await form.getByLabel('Port').fill(String(port));
  if (tsigName) await form.getByLabel('TSIG key').selectOption({ label: tsigName });
  await form.getByRole('button', { name: 'Add peer' }).click();
}

async function peerWithKey(key) {
  await createPeer('primary-a', '127.0.0.1', DEAD_PORT, 'k1.dash.test.');
  await expectStatus('Peer primary-a added');
  const peer = byName(await peers(), 'primary-a');
  assert.deepEqual(
    { ip: peer.ip, port: peer.port, tsig_id: peer.tsig_id, ixfr_enable: peer.ixfr_enable },
    { ip: '127.0.0.1', port: DEAD_PORT, tsig_id: key.id, ixfr_enable: false });
  await page.locator('#peers-table tr[data-name="primary-a"]').filter({ hasText: 'k1.dash.test.' }).waitFor();
  return peer;
}

async function badInputIsShownAtItsField() {
  const before = (await peers()).length;
  await createPeer('bad-ip', '300.1.2.3', 53);
  const ipError = page.locator('#peers-form [data-error-for="ip"]');
  await ipError.filter({ hasText: 'is not an IPv4 or IPv6 address' }).waitFor();
  const ipInput = page.locator('#peers-form').getByLabel('IP address');
  assert.equal(await ipInput.getAttribute('aria-invalid'), 'true');
  assert.ok(await ipInput.evaluate((node) => node === document.activeElement), 'the bad field has the focus');
  assert.ok((await ipInput.getAttribute('aria-describedby')).includes(await ipError.getAttribute('id')));
  assert.equal((await peers()).length, before, 'a refused peer is not created');

  const acl = page.locator('#acls-form');
  await acl.getByLabel('Name').fill('everyone');
  await acl.getByLabel('IP range (CIDR)').fill('10.0.0.0/8');
  await acl.getByRole('button', { name: 'Add ACL' }).click();
  await acl.locator('[data-error-for="ip_range"]').filter({ hasText: 'wider than /24' }).waitFor();
  await shot('03-settings-errors');
  assert.equal((await ok('GET', `/accounts/${account}/secondary_dns/acls`)).length, 0);
}

async function aclEditAndDelete() {
  const form = page.locator('#acls-form');
  await form.getByLabel('Name').fill('office');
  await form.getByLabel('IP range (CIDR)').fill('192.0.2.0/24');
  await form.getByRole('button', { name: 'Add ACL' }).click();
  await expectStatus('ACL office added');
  let acls = await ok('GET', `/accounts/${account}/secondary_dns/acls`);
  assert.equal(byName(acls, 'office')?.ip_range, '192.0.2.0/24');

  await page.getByRole('button', { name: 'Edit ACL office' }).click();
  await page.locator('#acls-form').getByLabel('Name').fill('office-lan');
  await page.locator('#acls-form').getByLabel('IP range (CIDR)').fill('198.51.100.0/25');
  await page.getByRole('button', { name: 'Save ACL' }).click();
  await expectStatus('ACL office-lan saved');
  acls = await ok('GET', `/accounts/${account}/secondary_dns/acls`);
  assert.deepEqual(acls.map((a) => [a.name, a.ip_range]), [['office-lan', '198.51.100.0/25']]);

  await page.getByRole('button', { name: 'Delete ACL office-lan' }).click();
  await dialogAnswer(true);
  await expectStatus('ACL office-lan deleted');
  assert.equal((await ok('GET', `/accounts/${account}/secondary_dns/acls`)).length, 0);
  await shot('02-settings');
}

async function createZone(name, type) {
  await page.goto(`${BASE}/#/`);
  const form = page.locator('#zone-create');
  await form.getByLabel('Zone name').fill(name);
  await form.getByLabel('Type').selectOption(type);
  await form.getByRole('button', { name: 'Create zone' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  const zone = await zoneByName(name);
  assert.equal(zone?.type, type);
  return zone;
}

async function secondaryZone(primary) {
  const zone = await createZone('secondary.dash.test', 'secondary');
  assert.equal(await page.locator('#add-record').count(), 0, 'secondary zones are read-only');
  const form = page.locator('#incoming-form');
  await checkPicker(form, ['primary-a']);
  await form.getByLabel('Refresh interval (seconds)').fill('3600');
  await form.getByRole('button', { name: 'Start transferring in' }).click();
  await expectStatus('Incoming settings saved');
  const incoming = await ok('GET', `/zones/${zone.id}/secondary_dns/incoming`);
  assert.deepEqual(incoming.peers, [primary.id]);
  assert.equal(incoming.auto_refresh_seconds, 3600);

  await page.getByRole('button', { name: 'Transfer now (full AXFR)' }).click();
  await expectStatus('Transfer now: OK');
  await page.locator('#incoming-status').getByRole('cell', { name: 'primary-a' }).waitFor();
  await shot('04-secondary-zone');
  return zone;
}

async function addRecord(type, name, content, priority) {
  await page.getByRole('button', { name: 'Add record' }).first().click();
  const form = page.locator('#record-form');
  await form.getByLabel('Type').selectOption(type);
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Content').fill(content);
  if (priority !== undefined) await form.getByLabel('Priority').fill(String(priority));
  await form.getByRole('button', { name: 'Add record' }).click();
}

async function records(zone) {
  return ok('GET', `/zones/${zone.id}/dns_records?per_page=1000`);
}

async function fullZoneRecords() {
  const zone = await createZone('full.dash.test', 'full');
  await addRecord('A', 'www', '192.0.2.10');
  await expectStatus('A record www.full.dash.test added');
  await addRecord('MX', '@', 'mail.full.dash.test', 10);
  await expectStatus('MX record full.dash.test added');
  await addRecord('TXT', 'www', '"hello"');
  await expectStatus('TXT record www.full.dash.test added');
  let list = await records(zone);
  const find = (type, name) => list.find((r) => r.type === type && r.name === name);
  assert.equal(find('A', 'www.full.dash.test')?.content, '192.0.2.10');

  // The SOA can be edited but not deleted (a zone always has one); other records can be.
  const soaRow = page.locator('#records-table tbody tr').filter({ has: page.locator('td:first-child', { hasText: /^SOA$/ }) });
  assert.equal(await soaRow.count(), 1, 'one SOA row');
  assert.equal(await soaRow.getByRole('button', { name: /^Delete/ }).count(), 0, 'no Delete on the SOA row');
  assert.equal(await soaRow.getByRole('button', { name: /^Edit SOA record/ }).count(), 1, 'Edit on the SOA row');
  assert.equal(await page.getByRole('button', { name: 'Delete A record www.full.dash.test' }).count(), 1);
  assert.equal(find('MX', 'full.dash.test')?.priority, 10);
  // Quoted content is one character-string, shown as the provider shows it: unquoted.
  assert.equal(find('TXT', 'www.full.dash.test')?.content, 'hello');

  // A bad value is shown at its field and changes nothing.
  await addRecord('A', 'bad', 'not-an-address');
  await page.locator('#record-form [data-error-for="content"]').waitFor({ state: 'visible' });
  assert.equal((await records(zone)).length, list.length);
  await page.locator('#record-form').getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Edit A record www.full.dash.test' }).click();
  await page.locator('#record-form').getByLabel('Content').fill('192.0.2.11');
  await page.getByRole('button', { name: 'Save record' }).click();
  await expectStatus('A record www.full.dash.test saved');
  list = await records(zone);
  assert.equal(find('A', 'www.full.dash.test')?.content, '192.0.2.11');

  await page.getByLabel('Filter by name').fill('www');
  assert.equal(await page.locator('#records-table tbody tr').count(), 2, 'only the www records');
  await page.getByLabel('Filter by name').fill('');
  await page.getByRole('button', { name: 'Sort by Type' }).click();
  const types = await page.locator('#records-table tbody tr td:first-child').allTextContents();
  assert.deepEqual(types, [...types].sort(), 'sorted by type');
  await page.getByLabel('Type', { exact: true }).selectOption('MX');
  await page.locator('#records-table caption').filter({ hasText: '1 of 1 records' }).waitFor();
  await page.getByLabel('Type', { exact: true }).selectOption('');

  await page.getByRole('button', { name: 'Delete TXT record www.full.dash.test' }).click();
  await dialogAnswer(true);
  await expectStatus('TXT record www.full.dash.test deleted');
  list = await records(zone);
  assert.equal(find('TXT', 'www.full.dash.test'), undefined);
  const success = await statusLook();
  assert.equal(success.color, OK_COLOUR, 'a success is shown in green');
  assert.doesNotMatch(success.className, /\berror\b/);
  return zone;
}

/** A failure is shown in the error colour, not in the green of a success. */
async function failureInTheErrorColour(zone) {
  const gone = await ok('POST', `/zones/${zone.id}/dns_records`, { type: 'A', name: 'gone', content: '192.0.2.99', ttl: 300 });
  await openZone(zone.name);
  const remove = page.getByRole('button', { name: 'Delete A record gone.full.dash.test' });
  await remove.waitFor();
  // Someone else deletes it first: the page's delete fails.
  await ok('DELETE', `/zones/${zone.id}/dns_records/${gone.id}`);
  await remove.click();
  await dialogAnswer(true);
  await expectStatus('The record was not deleted');
  const failure = await statusLook();
  assert.match(failure.className, /\berror\b/, 'the status line is marked as an error');
  assert.equal(failure.color, ERROR_COLOUR, 'a failure is shown in the error colour');
  assert.notEqual(failure.color, OK_COLOUR);
  await shot('05b-failure');
}

async function importAndExport(zone) {
  await page.getByLabel('Zone file to import').setInputFiles({
    name: 'extra.zone', mimeType: 'text/plain', buffer: Buffer.from('ftp 300 IN A 192.0.2.21\n'),
  });
  await page.getByRole('button', { name: 'Import zone file' }).click();
  await page.locator('#zone-import .result').filter({ hasText: '1 records added' }).waitFor();
  assert.ok((await records(zone)).some((r) => r.name === 'ftp.full.dash.test' && r.content === '192.0.2.21'));

  await page.getByLabel('Zone file to import').setInputFiles({
    name: 'broken.zone', mimeType: 'text/plain', buffer: Buffer.from('ok 300 IN A 192.0.2.1\nbad 300 IN A nope\n'),
  });
  await page.getByRole('button', { name: 'Import zone file' }).click();
  await page.locator('#zone-import [data-error-for="file"]').filter({ hasText: 'line 2' }).waitFor();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download zone file' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'full.dash.test.zone');
  const text = readFileSync(await download.path(), 'utf8');
  assert.equal(text, await (await fetch(`${BASE}/client/v4/zones/${zone.id}/dns_records/export`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  })).text());
  assert.match(text, /ftp\.full\.dash\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.21/);
}

async function outgoingAndPeerLimit(zone) {
  for (let i = 1; i <= 31; i += 1) {
    await ok('POST', `/accounts/${account}/secondary_dns/peers`, {
      name: `sec-${String(i).padStart(2, '0')}`, ip: '127.0.0.1', port: DEAD_PORT,
    });
  }
  const all = await peers();
  const sec01 = byName(all, 'sec-01');
  await openZone(zone.name);
  const form = page.locator('#outgoing-form');
  await checkPicker(form, ['sec-01']);
  await form.locator('.counter').filter({ hasText: '1 of at most 30' }).waitFor();
  await form.getByRole('button', { name: 'Set up outgoing transfers' }).click();
  await expectStatus('Outgoing settings saved');
  let outgoing = await ok('GET', `/zones/${zone.id}/secondary_dns/outgoing`);
  assert.deepEqual(outgoing.peers, [sec01.id]);
  assert.equal(outgoing.enabled, false, 'outgoing starts disabled');

  const toggle = page.getByRole('switch', { name: /Outgoing transfers/ });
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  await toggle.click();
  await expectStatus('Outgoing transfers: Enabled');
  assert.equal((await ok('GET', `/zones/${zone.id}/secondary_dns/outgoing`)).enabled, true);
  assert.equal(await page.getByRole('switch', { name: /Outgoing transfers/ }).getAttribute('aria-checked'), 'true');
  await page.getByRole('button', { name: 'Send NOTIFY now' }).click();
  await expectStatus('NOTIFY: OK');

  // The 31st peer: the count says it is too many, and the API's refusal is shown at the list.
  const names = all.filter((p) => p.name.startsWith('sec-')).map((p) => p.name);
  assert.equal(names.length, 31);
  await checkPicker(page.locator('#outgoing-form'), names);
  await page.locator('#outgoing-form .counter.over').filter({ hasText: '31 of at most 30' }).waitFor();
  await page.getByRole('button', { name: 'Save secondaries' }).click();
  await page.locator('#outgoing-form [data-error-for="peers"]').filter({ hasText: 'at most 30' }).waitFor();
  await shot('06-peer-limit');
  outgoing = await ok('GET', `/zones/${zone.id}/secondary_dns/outgoing`);
  assert.deepEqual(outgoing.peers, [sec01.id], 'the refused list changed nothing');
  assert.equal(outgoing.enabled, true);
  await openZone(zone.name);
  await shot('05-full-zone');
}

async function providersView() {
  const [host, port] = PEER_DNS.split(':');
  await page.goto(`${BASE}/#/settings`);
  await createPeer('provider-b', host, Number(port));
  await expectStatus('Peer provider-b added');
  const providerB = byName(await peers(), 'provider-b');

  const zone = await createZone('multi.dash.test', 'full');
  const form = page.locator('#outgoing-form');
  await checkPicker(form, ['provider-b']);
  await form.getByRole('button', { name: 'Set up outgoing transfers' }).click();
  await expectStatus('Outgoing settings saved');
  assert.deepEqual((await ok('GET', `/zones/${zone.id}/secondary_dns/outgoing`)).peers, [providerB.id]);

  // The other provider serves serial 3; we serve 1.
  const row = page.locator('#providers-table tr[data-peer="provider-b"]');
  await row.filter({ hasText: 'differs' }).waitFor();
  assert.equal(await row.getAttribute('data-state'), 'differs');
  assert.match(await row.getAttribute('class'), /flagged/);
  const cells = await row.locator('td').allTextContents();
  assert.deepEqual(cells.slice(0, 5), ['provider-b', 'secondary', `${host}:${port}`, '3', '1']);
  assert.match(cells[6], /behind ours by -?\d|ahead of ours by 2/);
  await page.locator('#providers-summary').filter({ hasText: '1 of 1 linked peers does not serve our serial 1.' }).waitFor();
  await shot('07-providers-differ');
  let serials = await ok('GET', `/zones/${zone.id}/secondary_dns/peer_serials`);
  assert.deepEqual(serials.map((s) => [s.name, s.role, s.serial, s.our_serial, s.error]),
    [['provider-b', 'secondary', 3, 1, null]]);

  // Two edits bring us to serial 3 as well.
  await addRecord('A', 'a', '192.0.2.1');
  await expectStatus('A record a.multi.dash.test added');
  await addRecord('A', 'b', '192.0.2.2');
  await expectStatus('A record b.multi.dash.test added');
  await page.getByRole('button', { name: 'Ask the peers again' }).click();
  await row.filter({ hasText: 'same serial' }).waitFor();
  assert.equal(await row.getAttribute('data-state'), 'same');
  await page.locator('#providers-summary').filter({ hasText: 'Every linked peer serves our serial 3' }).waitFor();
  await shot('08-providers-same');
  serials = await ok('GET', `/zones/${zone.id}/secondary_dns/peer_serials`);
  assert.deepEqual(serials.map((s) => [s.serial, s.our_serial]), [[3, 3]]);
}

/** Waits until every zone row shows its serial and transfer health. */
async function zoneRowsFilled() {
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#zone-table tbody td:nth-child(4), #zone-table tbody td:nth-child(5)')];
    return cells.length > 0 && cells.every((td) => !td.textContent.includes('…'));
  });
}

async function zoneListAndDelete(secondary) {
  await page.goto(`${BASE}/#/`);
  // A whole load of the zones page asks for nothing that is not there: no 404, even for zones
  // without transfer settings (the secondary zone has no outgoing ones).
  const from = responses.length;
  await page.reload();
  await page.locator('#zone-table').waitFor();
  await zoneRowsFilled();
  const loaded = responses.slice(from);
  assert.ok(loaded.some((r) => r.url.includes('/client/v4/zones?')), 'the zone list was loaded');
  assert.deepEqual(loaded.filter((r) => r.status === 404), [], 'no 404 while loading the zones page');
  const table = page.locator('#zone-table');
  const full = table.locator('tr[data-zone="full.dash.test"]');
  await full.filter({ hasText: 'out: on' }).waitFor();
  const cells = await full.locator('td').allTextContents();
  assert.equal(cells[1], 'full');
  assert.equal(cells[2], 'active');
  const fullZone = await zoneByName('full.dash.test');
  const soa = (await ok('GET', `/zones/${fullZone.id}/dns_records?type=SOA`))[0].content.split(/\s+/)[2];
  assert.equal(cells[3], soa, 'the serial the zone serves');
  await table.locator('tr[data-zone="secondary.dash.test"]').filter({ hasText: 'in:' }).waitFor();
  await shot('09-zones');

  await page.getByRole('button', { name: 'Delete zone secondary.dash.test' }).click();
  await dialogAnswer(false);
  assert.equal((await api('GET', `/zones/${secondary.id}`)).status, 200, 'Cancel keeps the zone');
  await page.getByRole('button', { name: 'Delete zone secondary.dash.test' }).click();
  await dialogAnswer(true);
  await expectStatus('Zone secondary.dash.test deleted');
  assert.equal((await api('GET', `/zones/${secondary.id}`)).status, 404);
  assert.equal(await table.locator('tr[data-zone="secondary.dash.test"]').count(), 0);
}

/** Every visible form control has a label (its own, or aria-label). */
async function everyControlIsLabelled(where) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((c) => c.type !== 'hidden' && c.offsetParent !== null)
    .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
    .map((c) => c.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${where}`);
}

async function accessibilityAndNarrowScreen() {
  await openZone('full.dash.test');
  await everyControlIsLabelled('the zone page');
  await page.goto(`${BASE}/#/settings`);
  await page.locator('#peers-table').waitFor();
  await everyControlIsLabelled('the settings page');
  await page.setViewportSize({ width: 375, height: 800 });
  for (const [hash, ready, name] of [['#/', '#zone-table', '10-narrow-zones'], ['#/settings', '#peers-table', '11-narrow-settings']]) {
    await page.goto(`${BASE}/${hash}`);
    await page.locator(ready).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${hash}: the page is ${overflow}px wider than a narrow screen`);
    await shot(name);
  }
  // At 390 px every column of the zones table is on the screen: no part of the table hidden
  // behind a scroll, every cell inside the viewport and labelled with its column's name.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/#/`);
  await page.locator('#zone-table').waitFor();
  await zoneRowsFilled();
  const layout = await page.evaluate(() => {
    const table = document.querySelector('#zone-table');
    const wrap = table.closest('.table-wrap');
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
    const cells = [...table.querySelectorAll('tbody tr')].flatMap((tr) => [...tr.children].map((td, i) => {
      const r = td.getBoundingClientRect();
      const label = getComputedStyle(td, '::before').content.replace(/^"|"$/g, '');
      return { head: heads[i], label, left: r.left, right: r.right, shown: r.width > 0 && r.height > 0 };
    }));
    return { hidden: wrap.scrollWidth - wrap.clientWidth, tableRight: table.getBoundingClientRect().right, width: window.innerWidth, heads, cells };
  });
  assert.deepEqual(layout.heads, ['Zone', 'Type', 'Status', 'Serial', 'Transfers', 'Actions']);
  assert.ok(layout.hidden <= 1, `390 px: ${layout.hidden}px of the zones table are hidden behind a scroll`);
  assert.ok(layout.tableRight <= layout.width + 1, `390 px: the zones table ends at ${layout.tableRight}px`);
  assert.ok(layout.cells.length >= layout.heads.length, 'the table has rows');
  for (const cell of layout.cells) {
    assert.ok(cell.shown && cell.left >= 0 && cell.right <= layout.width + 1,
      `390 px: the ${cell.head} cell spans ${cell.left}..${cell.right}px`);
    assert.equal(cell.label, cell.head, `390 px: the ${cell.head} cell says which column it is`);
  }
  await shot('13-zones-390');
  await page.setViewportSize({ width: 375, height: 800 });

  await openZone('full.dash.test');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `zone page: ${overflow}px wider than a narrow screen`);
  await shot('12-narrow-zone');
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tandem.token')), null);
}

// ---- run ----

let passed = 0;
let failed = 0;
async function step(name, work) {
  const started = Date.now();
  try {
    const result = await work();
    passed += 1;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
    return result;
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n${e.stack || e}`);
    await shot(`failed-${name.replace(/\W+/g, '-')}`).catch(() => {});
    throw e;
  }
}

let exitCode = 0;
try {
  await step('sign in', signIn);
  const key = await step('create a TSIG key (generated secret, copy button)', createTsig);
  const primary = await step('create a peer using the key', () => peerWithKey(key));
  await step('bad IP and bad CIDR are shown at their fields', badInputIsShownAtItsField);
  await step('create, edit and delete an ACL', aclEditAndDelete);
  const secondary = await step('create a secondary zone linked to the peer', () => secondaryZone(primary));
  const full = await step('full zone: add, edit, filter, sort and delete records', fullZoneRecords);
  await step('a failure is shown in the error colour', () => failureInTheErrorColour(full));
  await step('zone file import and export', () => importAndExport(full));
  await step('link a peer, enable outgoing, NOTIFY, 31st peer refused', () => outgoingAndPeerLimit(full));
  await step('multi-provider view flags a different serial', providersView);
  await step('zone list shows serial and health; delete with confirmation', () => zoneListAndDelete(secondary));
  await step('labels and a narrow screen', accessibilityAndNarrowScreen);
  await step('sign out', signOut);
  await step('no script errors or policy violations in the page', async () => assert.deepEqual(problems, []));
} catch {
  exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`screenshots in ${SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);
