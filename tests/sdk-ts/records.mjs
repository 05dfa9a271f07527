// Tandem's records and zones API driven by the provider's official TypeScript SDK (npm
// `cloudflare`, 7.x, pinned in package-lock.json), as its users call it:
// `new Cloudflare({ apiToken, baseURL })`. Run by tests/tests/sdk_ts.rs against the real binary.
//
// Environment: CLOUDFLARE_BASE_URL (Tandem's .../client/v4), CLOUDFLARE_API_TOKEN (a write or
// administrator token), TANDEM_DNS (Tandem's DNS address, `127.0.0.1:PORT`, asked with `dig`).
// It stops at the first mismatch with a message saying what was expected and what came back,
// and exits 1; TANDEM_SDK_KEEP_GOING=1 runs every section and reports each section's first
// mismatch instead.
//
// Sections: records of every type the provider has, in `content` and in `data` form, with what
// the DNS port serves for them; ttl 1, metadata and settings; error codes; PUT, PATCH and no-op
// writes; every list filter with the SDK's parameter shapes; auto-pagination; batch; import and
// export; zones create, edit (paused) and delete; token verify, X-Auth-Key and page rules.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

import Cloudflare from 'cloudflare';
import { VERSION } from 'cloudflare/version';

const baseURL = process.env.CLOUDFLARE_BASE_URL;
const apiToken = process.env.CLOUDFLARE_API_TOKEN;
const dnsAddr = process.env.TANDEM_DNS;
if (!baseURL || !apiToken || !dnsAddr) {
  console.error('set CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN and TANDEM_DNS');
  process.exit(2);
}
const cf = new Cloudflare({ apiToken, baseURL, maxRetries: 0 });

// ---------------------------------------------------------------------------------------------
// Helpers

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const SSHFP_HEX = sha256('tandem sshfp');
const TLSA_HEX = sha256('tandem tlsa');
const DS_HEX = sha256('tandem ds');
const SMIMEA_HEX = sha256('tandem smimea');
const DNSKEY_B64 = createHash('sha512').update('tandem dnskey').digest('base64');
const CERT_B64 = Buffer.from(Array.from({ length: 48 }, (_, i) => i + 1)).toString('base64');
const DKIM =
  'v=DKIM1; k=rsa; p=' +
  Buffer.concat([
    ...Array(4).fill(createHash('sha512').update('dkim').digest()),
    Buffer.alloc(24),
  ]).toString('base64');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let accountId;

async function newZone(name) {
  const zone = await cf.zones.create({ account: { id: accountId }, name, type: 'full' });
  assert.equal(zone.name, name, 'zones.create: name');
  assert.equal(zone.type, 'full', 'zones.create: type');
  return zone.id;
}

function dig(name, type, ...opts) {
  const [host, port] = [dnsAddr.slice(0, dnsAddr.lastIndexOf(':')), dnsAddr.slice(dnsAddr.lastIndexOf(':') + 1)];
  return execFileSync('dig', [`@${host}`, '-p', port, '+norec', '+time=2', '+tries=2', ...opts, name, type], {
    encoding: 'utf8',
    timeout: 30000,
  });
}

function served(name, type) {
  return dig(name, type, '+short')
    .split('\n')
    .filter((l) => l.trim())
    .sort();
}

function rcode(name, type) {
  const m = /status: ([A-Z]+)/.exec(dig(name, type));
  assert.ok(m, `no status in dig output for ${name} ${type}`);
  return m[1];
}

async function servedEventually(name, type, want, ms = 5000) {
  const deadline = Date.now() + ms;
  const sorted = [...want].sort();
  for (;;) {
    const got = served(name, type);
    if (JSON.stringify(got) === JSON.stringify(sorted) || Date.now() > deadline) {
      assert.deepEqual(got, sorted, `DNS serves ${JSON.stringify(got)} for ${name} ${type}`);
      return;
    }
    await sleep(100);
  }
}

const squash = (text, upper) => {
  const s = text.replace(/\s+/g, '');
  return upper ? s.toUpperCase() : s;
};

async function all(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function soaSerial(zoneId) {
  const soa = await all(cf.dns.records.list({ zone_id: zoneId, type: 'SOA' }));
  assert.equal(soa.length, 1, 'one SOA record');
  return Number(soa[0].content.split(/\s+/)[2]);
}

/** Runs `call`, which must fail with `Class`; answers the error. */
async function refused(Class, call, what) {
  try {
    await call();
  } catch (err) {
    if (err instanceof Class) return err;
    throw new assert.AssertionError({ message: `${what}: expected ${Class.name}, got ${err}` });
  }
  throw new assert.AssertionError({ message: `${what}: expected ${Class.name}, but it succeeded` });
}

const codes = (err) => (err.errors ?? []).map((e) => e.code);

function svcParams(value) {
  return value
    .split(/\s+/)
    .map((p) => p.replaceAll('"', ''))
    .sort();
}

function assertData(type, got, want) {
  assert.ok(got && typeof got === 'object', `${type}: no data in the answer`);
  for (const [key, value] of Object.entries(want)) {
    assert.ok(key in got, `${type}: data lacks ${key}: ${JSON.stringify(got)}`);
    if (typeof value === 'number') {
      assert.equal(Number(got[key]), value, `${type}: data.${key}`);
    } else if ((type === 'HTTPS' || type === 'SVCB') && key === 'value') {
      assert.deepEqual(svcParams(got[key]), svcParams(value), `${type}: data.value ${got[key]}`);
    } else if (['HTTPS', 'SVCB', 'NAPTR'].includes(type) && ['target', 'replacement'].includes(key)) {
      // A name given without the trailing dot is absolute, as everywhere in the API; the
      // contract does not say whether these come back with the dot.
      assert.ok([value, value.replace(/\.$/, '') + '.'].includes(got[key]), `${type}: data.${key} is ${got[key]}, sent ${value}`);
    } else if (['fingerprint', 'certificate', 'digest'].includes(key) && type !== 'CERT') {
      assert.equal(got[key], value.toLowerCase(), `${type}: data.${key} (lower-case hex)`);
    } else {
      assert.equal(got[key], value, `${type}: data.${key}`);
    }
  }
}

/** The fields every record carries (records-contract). */
function assertShape(r, type) {
  assert.equal(r.type, type, `record type: ${JSON.stringify(r)}`);
  for (const field of ['id', 'name', 'type', 'content', 'ttl', 'proxied', 'proxiable', 'meta', 'settings', 'tags', 'comment', 'created_on', 'modified_on']) {
    assert.ok(field in r, `${type} record has no ${field}: ${JSON.stringify(r)}`);
  }
  assert.ok(r.meta && typeof r.meta === 'object' && !Array.isArray(r.meta), `${type}: meta is an object: ${JSON.stringify(r.meta)}`);
  assert.ok(r.settings && typeof r.settings === 'object' && !Array.isArray(r.settings), `${type}: settings is an object: ${JSON.stringify(r.settings)}`);
  assert.equal(r.proxied, false, `${type}: proxied`);
  assert.equal(r.proxiable, false, `${type}: proxiable`);
  assert.ok(Array.isArray(r.tags), `${type}: tags is a list`);
}

// ---------------------------------------------------------------------------------------------
// Record types

const CONTENT_CASES = [
  // [type, label, content sent, priority, content returned, dig +short]
  ['A', 'a', '192.0.2.1', null, '192.0.2.1', ['192.0.2.1']],
  ['AAAA', 'aaaa', '2001:db8::1', null, '2001:db8::1', ['2001:db8::1']],
  ['CNAME', 'cname', 'target.example.net', null, 'target.example.net', ['target.example.net.']],
  ['CNAME', 'cname-dot', 'target2.example.net.', null, 'target2.example.net', ['target2.example.net.']],
  ['MX', 'mx', 'mail.example.com', 10, 'mail.example.com', ['10 mail.example.com.']],
  ['MX', 'nullmx', '.', 0, '.', ['0 .']],
  ['PTR', 'ptr', 'host.example.net', null, 'host.example.net', ['host.example.net.']],
  ['TXT', 'spf', 'v=spf1 include:_spf.example.net ~all', null, 'v=spf1 include:_spf.example.net ~all', ['"v=spf1 include:_spf.example.net ~all"']],
  ['TXT', 'dkim._domainkey', DKIM, null, DKIM, [`"${DKIM.slice(0, 255)}" "${DKIM.slice(255)}"`]],
  ['TXT', 'quoted', '"hello world"', null, 'hello world', ['"hello world"']],
  ['TXT', 'two', '"a" "b"', null, '"a" "b"', ['"a" "b"']],
  ['TXT', 'quote', 'say "hi"', null, 'say "hi"', ['"say \\"hi\\""']],
];

const DATA_CASES = [
  // [type, label, data, priority, content as written (null: the one returned), fixed content, dig]
  ['CAA', 'caa', { flags: 0, tag: 'issue', value: 'letsencrypt.org' }, null, '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'],
  ['CERT', 'cert', { type: 1, key_tag: 12345, algorithm: 8, certificate: CERT_B64 }, null, `1 12345 8 ${CERT_B64}`, null, null],
  ['DNSKEY', 'dnskey', { flags: 257, protocol: 3, algorithm: 13, public_key: DNSKEY_B64 }, null, `257 3 13 ${DNSKEY_B64}`, null, `257 3 13 ${DNSKEY_B64}`],
  ['DS', 'ds', { key_tag: 2371, algorithm: 13, digest_type: 2, digest: DS_HEX }, null, `2371 13 2 ${DS_HEX.toUpperCase()}`, `2371 13 2 ${DS_HEX}`, `2371 13 2 ${DS_HEX}`],
  ['HTTPS', 'https', { priority: 1, target: '.', value: 'alpn="h3,h2" ipv4hint="192.0.2.1"' }, null, '1 . alpn="h3,h2" ipv4hint="192.0.2.1"', null, null],
  ['LOC', 'loc', {
    lat_degrees: 51, lat_minutes: 30, lat_seconds: 12.748, lat_direction: 'N',
    long_degrees: 0, long_minutes: 7, long_seconds: 39.611, long_direction: 'W',
    altitude: 10, size: 1, precision_horz: 10000, precision_vert: 10,
  }, null, '51 30 12.748 N 0 7 39.611 W 10m 1m 10000m 10m', null, null],
  ['NAPTR', 'naptr', { order: 100, preference: 10, flags: 'S', service: 'SIP+D2U', regex: '!^.*$!sip:info@example.com!', replacement: '.' }, null,
    '100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" .', null, '100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" .'],
  ['SMIMEA', 'smimea', { usage: 3, selector: 1, matching_type: 1, certificate: SMIMEA_HEX }, null, `3 1 1 ${SMIMEA_HEX}`, `3 1 1 ${SMIMEA_HEX}`, `3 1 1 ${SMIMEA_HEX}`],
  ['SRV', '_sip._tcp', { priority: 10, weight: 5, port: 5060, target: 'sip.example.com' }, 10, '5 5060 sip.example.com', '5 5060 sip.example.com', '10 5 5060 sip.example.com.'],
  ['SSHFP', 'sshfp', { algorithm: 4, type: 2, fingerprint: SSHFP_HEX }, null, `4 2 ${SSHFP_HEX.toUpperCase()}`, `4 2 ${SSHFP_HEX}`, `4 2 ${SSHFP_HEX}`],
  ['SVCB', '_8443._svc', { priority: 1, target: 'svc.example.net', value: 'alpn="h2" port="8443"' }, null, '1 svc.example.net alpn="h2" port="8443"', null, null],
  ['TLSA', '_443._tcp', { usage: 3, selector: 1, matching_type: 1, certificate: TLSA_HEX }, null, `3 1 1 ${TLSA_HEX.toUpperCase()}`, `3 1 1 ${TLSA_HEX}`, `3 1 1 ${TLSA_HEX}`],
  ['URI', '_ftp._tcp', { weight: 1, target: 'ftp://ftp.example.com/public' }, 10, null, null, '10 1 "ftp://ftp.example.com/public"'],
];

async function recordTypes() {
  const zn = 'ts-types.test';
  const zone = await newZone(zn);

  for (const [type, label, content, priority, returned, onWire] of CONTENT_CASES) {
    const name = `${label}.${zn}`;
    const extra = priority === null ? {} : { priority };
    const r = await cf.dns.records.create({ zone_id: zone, name, type, content, ttl: 300, ...extra });
    assertShape(r, type);
    assert.equal(r.name, name, `${type} ${label}: name`);
    assert.equal(r.content, returned, `${type} ${label}: content`);
    assert.equal(r.ttl, 300, `${type} ${label}: ttl`);
    if (priority !== null) assert.equal(r.priority, priority, `${type} ${label}: priority`);
    assert.deepEqual(await cf.dns.records.get(r.id, { zone_id: zone }), r, `${type} ${label}: get answers what create did`);
    const listed = await all(cf.dns.records.list({ zone_id: zone, type, name: { exact: name } }));
    assert.deepEqual(listed, [r], `${type} ${label}: list by name.exact and type`);
    await servedEventually(name, type, onWire);
  }

  const ns = await cf.dns.records.create({ zone_id: zone, name: `sub.${zn}`, type: 'NS', content: 'ns1.example.net', ttl: 3600 });
  assertShape(ns, 'NS');
  assert.equal(ns.content, 'ns1.example.net', 'NS content');
  const deadline = Date.now() + 5000;
  let authority;
  do {
    authority = dig(`host.sub.${zn}`, 'A', '+noall', '+authority');
    if (authority.includes('ns1.example.net.')) break;
    await sleep(100);
  } while (Date.now() < deadline);
  assert.match(authority, /^sub\.ts-types\.test\.\s+3600\s+IN\s+NS\s+ns1\.example\.net\.$/m, 'NS delegation served');

  for (const [type, label, data, priority, written, fixed, onWire] of DATA_CASES) {
    const extra = priority === null ? {} : { priority };
    const dName = `${label}.d.${zn}`;
    const byData = await cf.dns.records.create({ zone_id: zone, name: dName, type, data, ttl: 300, ...extra });
    assertShape(byData, type);
    assertData(type, byData.data, data);
    assert.ok(typeof byData.content === 'string' && byData.content, `${type}: content beside data`);
    if (fixed !== null) assert.equal(byData.content, fixed, `${type}: content of the data form`);
    if (priority !== null) assert.equal(byData.priority, priority, `${type}: priority`);
    assert.deepEqual(await cf.dns.records.get(byData.id, { zone_id: zone }), byData, `${type}: get answers what create did`);

    const cName = `${label}.c.${zn}`;
    const byContent = await cf.dns.records.create({ zone_id: zone, name: cName, type, content: written ?? byData.content, ttl: 300, ...extra });
    assertShape(byContent, type);
    assertData(type, byContent.data, data);
    assert.equal(byContent.content, byData.content, `${type}: the content form gives the content of the data form`);

    const until = Date.now() + 5000;
    while (!(served(dName, type).length && served(cName, type).length) && Date.now() < until) await sleep(100);
    const [wireD, wireC] = [served(dName, type), served(cName, type)];
    assert.equal(wireD.length, 1, `${type}: DNS serves ${JSON.stringify(wireD)}`);
    const hex = ['DS', 'SSHFP', 'TLSA', 'SMIMEA'].includes(type);
    assert.equal(squash(wireD[0], hex), squash(wireC[0] ?? '', hex), `${type}: both forms serve the same RDATA`);
    if (onWire !== null) assert.equal(squash(wireD[0], hex), squash(onWire, hex), `${type}: served RDATA`);

    const again = await cf.dns.records.update(byData.id, { zone_id: zone, name: dName, type, data: byData.data, ttl: 300, ...extra });
    assert.equal(again.content, byData.content, `${type}: PUT of the returned data changes nothing`);
  }

  // SRV data edited through PATCH.
  const srv = await cf.dns.records.create({
    zone_id: zone, name: `_xmpp._tcp.${zn}`, type: 'SRV', ttl: 300,
    data: { priority: 20, weight: 0, port: 5222, target: 'xmpp.example.net' },
  });
  assert.equal(srv.content, '0 5222 xmpp.example.net', 'SRV content');
  assert.equal(srv.priority, 20, 'SRV priority');
  const edited = await cf.dns.records.edit(srv.id, {
    zone_id: zone, name: `_xmpp._tcp.${zn}`, type: 'SRV', ttl: 300,
    data: { priority: 20, weight: 0, port: 5223, target: 'xmpp.example.net' },
  });
  assert.equal(edited.content, '0 5223 xmpp.example.net', 'SRV content after PATCH');
  assert.equal(edited.data.port, 5223, 'SRV data.port after PATCH');
  await servedEventually(`_xmpp._tcp.${zn}`, 'SRV', ['20 0 5223 xmpp.example.net.']);
}

async function ttlMetadataAndErrors() {
  const zn = 'ts-meta.test';
  const zone = await newZone(zn);

  const auto = await cf.dns.records.create({ zone_id: zone, name: `auto.${zn}`, type: 'A', content: '192.0.2.55', ttl: 1 });
  assert.equal(auto.ttl, 1, 'ttl 1 is returned as 1');
  assert.equal((await cf.dns.records.get(auto.id, { zone_id: zone })).ttl, 1, 'ttl 1 read back');
  await servedEventually(`auto.${zn}`, 'A', ['192.0.2.55']);
  assert.match(dig(`auto.${zn}`, 'A', '+noall', '+answer'), /^auto\.ts-meta\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.55$/m, 'ttl 1 is served as 300');
  const low = await refused(Cloudflare.BadRequestError, () =>
    cf.dns.records.create({ zone_id: zone, name: `low.${zn}`, type: 'A', content: '192.0.2.56', ttl: 29 }), 'ttl 29');
  assert.match(low.message, /ttl/, 'the ttl refusal names ttl');

  const plain = await cf.dns.records.create({ zone_id: zone, name: `plain.${zn}`, type: 'A', content: '192.0.2.60', ttl: 300 });
  assertShape(plain, 'A');
  assert.equal(plain.comment, null, 'no comment');
  assert.deepEqual(plain.tags, [], 'no tags');
  assert.ok(!plain.comment_modified_on && !plain.tags_modified_on, 'no comment/tags times without comment/tags');
  assert.ok(!plain.settings.ipv4_only && !plain.settings.ipv6_only, 'settings default off');

  const noted = await cf.dns.records.create({
    zone_id: zone, name: `noted.${zn}`, type: 'CNAME', content: `plain.${zn}`, ttl: 300,
    comment: 'points at plain', tags: ['owner:team-a', 'env:prod'],
  });
  assertShape(noted, 'CNAME');
  assert.equal(noted.comment, 'points at plain', 'comment');
  assert.deepEqual([...noted.tags].sort(), ['env:prod', 'owner:team-a'], 'tags');
  assert.ok(noted.comment_modified_on && noted.tags_modified_on, 'comment/tags times');
  for (const setting of ['ipv4_only', 'ipv6_only']) {
    const err = await refused(Cloudflare.BadRequestError, () =>
      cf.dns.records.create({ zone_id: zone, name: `s.${zn}`, type: 'A', content: '192.0.2.61', ttl: 300, settings: { [setting]: true } }), setting);
    assert.match(err.message, new RegExp(setting), `the refusal names ${setting}`);
  }

  // The provider's codes.
  const first = await cf.dns.records.create({ zone_id: zone, name: `dup.${zn}`, type: 'TXT', content: 'same value', ttl: 300 });
  let err = await refused(Cloudflare.BadRequestError, () =>
    cf.dns.records.create({ zone_id: zone, name: `dup.${zn}`, type: 'TXT', content: 'same value', ttl: 600 }), 'identical record');
  assert.ok(codes(err).includes(81058), `identical record: code 81058, got ${JSON.stringify(err.errors)}`);
  err = await refused(Cloudflare.BadRequestError, () =>
    cf.dns.records.create({ zone_id: zone, name: `dup.${zn}`, type: 'CNAME', content: 'x.example.net', ttl: 300 }), 'CNAME beside TXT');
  assert.ok(codes(err).includes(81053), `CNAME beside data: code 81053, got ${JSON.stringify(err.errors)}`);
  err = await refused(Cloudflare.BadRequestError, () =>
    cf.dns.records.create({ zone_id: zone, name: `noted.${zn}`, type: 'A', content: '192.0.2.62', ttl: 300 }), 'A beside CNAME');
  assert.ok(codes(err).includes(81054), `data beside CNAME: code 81054, got ${JSON.stringify(err.errors)}`);
  assert.equal((await cf.dns.records.delete(first.id, { zone_id: zone })).id, first.id, 'delete answers the id');
  err = await refused(Cloudflare.NotFoundError, () => cf.dns.records.get(first.id, { zone_id: zone }), 'get of a deleted record');
  assert.ok(codes(err).includes(81044), `missing record: code 81044, got ${JSON.stringify(err.errors)}`);

  // PUT, PATCH and writes that change nothing.
  const name = `www.${zn}`;
  const r = await cf.dns.records.create({ zone_id: zone, name, type: 'A', content: '192.0.2.1', ttl: 300, comment: 'first', tags: ['env:prod'] });
  let serial = await soaSerial(zone);
  const same = await cf.dns.records.update(r.id, { zone_id: zone, name, type: 'A', content: '192.0.2.1', ttl: 300, comment: 'first', tags: ['env:prod'] });
  assert.equal(same.modified_on, r.modified_on, 'a PUT that changes nothing leaves modified_on');
  assert.equal(await soaSerial(zone), serial, 'a PUT that changes nothing makes no new serial');
  const noted2 = await cf.dns.records.edit(r.id, { zone_id: zone, name, type: 'A', ttl: 300, comment: 'second' });
  assert.equal(noted2.comment, 'second', 'PATCH comment');
  assert.equal(noted2.content, '192.0.2.1', 'PATCH keeps content');
  assert.deepEqual(noted2.tags, ['env:prod'], 'PATCH keeps tags');
  assert.equal(await soaSerial(zone), serial, 'a comment change makes no new serial');
  const moved = await cf.dns.records.edit(r.id, { zone_id: zone, name, type: 'A', ttl: 300, content: '192.0.2.2' });
  assert.equal(moved.content, '192.0.2.2', 'PATCH content');
  assert.equal(await soaSerial(zone), serial + 1, 'a content change is one new serial');
  await servedEventually(name, 'A', ['192.0.2.2']);
  const replaced = await cf.dns.records.update(r.id, { zone_id: zone, name, type: 'A', content: '192.0.2.3', ttl: 600 });
  assert.equal(replaced.comment, null, 'PUT drops the comment it leaves out');
  assert.deepEqual(replaced.tags, [], 'PUT drops the tags it leaves out');
  assert.equal(replaced.ttl, 600, 'PUT ttl');
  await servedEventually(name, 'A', ['192.0.2.3']);
  serial = await soaSerial(zone);
  assert.ok(serial > 0);
}

// ---------------------------------------------------------------------------------------------
// List filters

async function listFilters() {
  const zn = 'ts-filters.test';
  const zone = await newZone(zn);
  const make = async (body) => (await cf.dns.records.create({ zone_id: zone, ...body })).id;
  const rec = {
    www_a: await make({ name: `www.${zn}`, type: 'A', content: '192.0.2.1', ttl: 300, comment: 'Web server', tags: ['env:prod', 'team:web'] }),
    www_aaaa: await make({ name: `www.${zn}`, type: 'AAAA', content: '2001:db8::1', ttl: 120, comment: 'web v6', tags: ['env:staging'] }),
    api_a: await make({ name: `api.${zn}`, type: 'A', content: '192.0.2.2', ttl: 600, tags: ['env:prod'] }),
    mx: await make({ name: `mail.${zn}`, type: 'MX', content: 'mx1.example.net', priority: 10, ttl: 3600, comment: 'Mail exchanger' }),
    txt1: await make({ name: `_acme-challenge.${zn}`, type: 'TXT', content: 'token-one', ttl: 120 }),
    txt2: await make({ name: `_acme-challenge.${zn}`, type: 'TXT', content: 'token-two', ttl: 120 }),
    blog: await make({ name: `blog.${zn}`, type: 'CNAME', content: `www.${zn}`, ttl: 300 }),
  };
  rec.ns = (await all(cf.dns.records.list({ zone_id: zone, type: 'NS' })))[0].id;
  rec.soa = (await all(cf.dns.records.list({ zone_id: zone, type: 'SOA' })))[0].id;
  const everything = Object.values(rec);
  const names = Object.fromEntries(Object.entries(rec).map(([k, v]) => [v, k]));

  const check = async (params, labels) => {
    const got = (await all(cf.dns.records.list({ zone_id: zone, ...params }))).map((r) => names[r.id] ?? r.id).sort();
    assert.deepEqual(got, [...labels].sort(), `list ${JSON.stringify(params)}`);
  };
  const order = async (params) => (await all(cf.dns.records.list({ zone_id: zone, ...params }))).map((r) => names[r.id] ?? r.id);

  await check({ type: 'TXT' }, ['txt1', 'txt2']);
  await check({ name: `www.${zn}` }, ['www_a', 'www_aaaa']);
  await check({ name: { exact: `WWW.${zn}` } }, ['www_a', 'www_aaaa']);
  await check({ name: { contains: 'ww' } }, ['www_a', 'www_aaaa']);
  await check({ name: { startswith: '_acme' } }, ['txt1', 'txt2']);
  await check({ name: { endswith: `pi.${zn}` } }, ['api_a']);
  await check({ name: { endswith: `.${zn}` } }, Object.keys(rec).filter((k) => k !== 'ns' && k !== 'soa'));
  await check({ type: 'A', name: { exact: `www.${zn}` } }, ['www_a']);

  await check({ type: 'TXT', name: `_acme-challenge.${zn}`, content: 'token-one' }, ['txt1']);
  const one = await cf.dns.records.list({ zone_id: zone, type: 'TXT', name: `_acme-challenge.${zn}`, content: { exact: 'token-two' }, per_page: 1 });
  assert.deepEqual(one.result.map((r) => r.id), [rec.txt2], 'content.exact with per_page=1');
  await check({ content: { exact: 'TOKEN-ONE' } }, ['txt1']);
  await check({ content: { contains: '192.0.2' } }, ['www_a', 'api_a']);
  await check({ content: { startswith: '2001:db8' } }, ['www_aaaa']);
  await check({ content: { endswith: 'example.net' } }, ['mx']);
  await check({ content: { exact: `www.${zn}` } }, ['blog']);

  await check({ comment: 'Web server' }, ['www_a']);
  await check({ comment: { exact: 'web SERVER' } }, ['www_a']);
  await check({ comment: { contains: 'WEB' } }, ['www_a', 'www_aaaa']);
  await check({ comment: { startswith: 'mail' } }, ['mx']);
  await check({ comment: { endswith: 'v6' } }, ['www_aaaa']);
  await check({ comment: { present: 'true' } }, ['www_a', 'www_aaaa', 'mx']);
  await check({ comment: { absent: 'true' } }, ['api_a', 'txt1', 'txt2', 'blog', 'ns', 'soa']);

  await check({ search: 'token' }, ['txt1', 'txt2']);
  await check({ search: 'mail exch' }, ['mx']);
  await check({ type: 'MX', name: { exact: `api.${zn}` }, match: 'any' }, ['mx', 'api_a']);
  await check({ type: 'MX', name: { exact: `api.${zn}` }, match: 'all' }, []);
  await check({ type: 'A', comment: { contains: 'web' } }, ['www_a']);
  await check({ proxied: false }, Object.keys(rec));
  await check({ proxied: true }, []);

  assert.deepEqual(await order({ type: 'A', order: 'content' }), ['www_a', 'api_a'], 'order=content');
  assert.deepEqual(await order({ type: 'A', order: 'content', direction: 'desc' }), ['api_a', 'www_a'], 'order=content desc');
  assert.deepEqual(await order({ type: 'A', order: 'name', direction: 'desc' }), ['www_a', 'api_a'], 'order=name desc');
  assert.deepEqual(await order({ comment: { present: 'true' }, order: 'ttl' }), ['www_aaaa', 'www_a', 'mx'], 'order=ttl');
  assert.deepEqual(await order({ comment: { present: 'true' }, order: 'ttl', direction: 'desc' }), ['mx', 'www_a', 'www_aaaa'], 'order=ttl desc');
  assert.deepEqual(await order({ comment: { contains: 'web' }, order: 'type', direction: 'desc' }), ['www_aaaa', 'www_a'], 'order=type desc');
  assert.equal((await order({ order: 'proxied' })).length, everything.length, 'order=proxied');

  const page = await cf.dns.records.list({ zone_id: zone, per_page: 4, page: 2, order: 'name' });
  assert.equal(page.result.length, 4, 'page 2 of 4');
  assert.deepEqual(
    [page.result_info.page, page.result_info.per_page, page.result_info.count, page.result_info.total_count, page.result_info.total_pages],
    [2, 4, 4, everything.length, 3],
    `result_info ${JSON.stringify(page.result_info)}`,
  );
  assert.deepEqual((await cf.dns.records.list({ zone_id: zone, per_page: 4, page: 4 })).result, [], 'a page past the end is empty');

  for (const [params, field] of [
    [{ order: 'bogus' }, 'order'],
    [{ direction: 'up' }, 'direction'],
    [{ match: 'some' }, 'match'],
    [{ tag_match: 'some' }, 'tag_match'],
    [{ per_page: 0 }, 'per_page'],
    [{ colour: 'red' }, 'colour'],
    [{ content: { like: 'x' } }, 'content.like'],
  ]) {
    const err = await refused(Cloudflare.BadRequestError, () => cf.dns.records.list({ zone_id: zone, ...params }), `list ${JSON.stringify(params)}`);
    assert.ok(err.message.includes(field), `the refusal of ${JSON.stringify(params)} names ${field}: ${err.message}`);
  }

  // Tags last: they are the newest filters.
  await check({ tag: 'env:prod' }, ['www_a', 'api_a']);
  await check({ tag: 'team' }, ['www_a']);
  await check({ tag: { exact: 'env:prod' } }, ['www_a', 'api_a']);
  await check({ tag: { exact: 'ENV:PROD' } }, ['www_a', 'api_a']);
  await check({ tag: { contains: 'env:stag' } }, ['www_aaaa']);
  await check({ tag: { startswith: 'env:pro' } }, ['www_a', 'api_a']);
  await check({ tag: { endswith: 'env:ing' } }, ['www_aaaa']);
  await check({ tag: { present: 'team' } }, ['www_a']);
  await check({ tag: { absent: 'env' } }, ['mx', 'txt1', 'txt2', 'blog', 'ns', 'soa']);
  await check({ tag: { exact: 'env:prod', present: 'team' } }, ['www_a']);
  await check({ tag: { exact: 'env:prod', present: 'team' }, tag_match: 'all' }, ['www_a']);
  await check({ tag: { exact: 'env:prod', present: 'team' }, tag_match: 'any' }, ['www_a', 'api_a']);
  await check({ type: 'MX', tag: { present: 'team' }, match: 'any' }, ['mx', 'www_a']);
  await check({ type: 'A', tag: { present: 'team' } }, ['www_a']);
}

// ---------------------------------------------------------------------------------------------
// Auto-pagination

async function autoPagination() {
  const zn = 'ts-pages.test';
  const zone = await newZone(zn);
  const want = Array.from({ length: 12 }, (_, i) => `p${String(i + 1).padStart(2, '0')}.${zn}`);
  for (const [i, name] of want.entries()) {
    await cf.dns.records.create({ zone_id: zone, name, type: 'A', content: `192.0.2.${i + 1}`, ttl: 300 });
  }
  const seen = (await all(cf.dns.records.list({ zone_id: zone, type: 'A', per_page: 5, order: 'name' }))).map((r) => r.name);
  assert.deepEqual(seen, want, 'for await over pages of 5');
  const sizes = [];
  for await (const page of (await cf.dns.records.list({ zone_id: zone, type: 'A', per_page: 5 })).iterPages()) {
    sizes.push(page.result.length);
  }
  assert.deepEqual(sizes.slice(0, 3), [5, 5, 2], `page sizes ${sizes}`);
  assert.ok(sizes.slice(3).every((n) => n === 0), `page sizes ${sizes}`);
  assert.equal((await all(cf.dns.records.list({ zone_id: zone, per_page: 5 }))).length, 14, 'every record, SOA and NS included');
  await cf.zones.delete({ zone_id: zone });
}

// ---------------------------------------------------------------------------------------------
// Batch

async function batch() {
  const zn = 'ts-batch.test';
  const zone = await newZone(zn);
  const create = (body) => cf.dns.records.create({ zone_id: zone, ...body });
  const gone = await create({ name: `gone.${zn}`, type: 'A', content: '192.0.2.1', ttl: 300 });
  const patched = await create({ name: `patched.${zn}`, type: 'A', content: '192.0.2.10', ttl: 300 });
  const replaced = await create({ name: `replaced.${zn}`, type: 'TXT', content: 'old', ttl: 300, comment: 'was here' });
  let serial = await soaSerial(zone);

  const result = await cf.dns.records.batch({
    zone_id: zone,
    deletes: [{ id: gone.id }],
    patches: [{ id: patched.id, name: `patched.${zn}`, type: 'A', ttl: 300, content: '192.0.2.11', comment: 'patched' }],
    puts: [{ id: replaced.id, name: `replaced.${zn}`, type: 'TXT', content: 'new value', ttl: 600 }],
    posts: [
      { name: `_sip._udp.${zn}`, type: 'SRV', ttl: 300, data: { priority: 1, weight: 2, port: 5060, target: 'sip.example.net' } },
      { name: `caa.${zn}`, type: 'CAA', ttl: 300, data: { flags: 0, tag: 'issuewild', value: ';' } },
      { name: `new.${zn}`, type: 'AAAA', ttl: 1, content: '2001:db8::5', tags: ['env:test'] },
    ],
  });
  assert.deepEqual(result.deletes.map((r) => r.id), [gone.id], 'batch deletes');
  assert.equal(result.patches.length, 1, 'batch patches');
  assertShape(result.patches[0], 'A');
  assert.deepEqual([result.patches[0].content, result.patches[0].comment], ['192.0.2.11', 'patched'], 'patched record');
  assertShape(result.puts[0], 'TXT');
  assert.deepEqual([result.puts[0].content, result.puts[0].ttl, result.puts[0].comment], ['new value', 600, null], 'put record');
  const [srv, caa, aaaa] = result.posts;
  assertShape(srv, 'SRV');
  assert.equal(srv.content, '2 5060 sip.example.net', 'posted SRV content');
  assert.equal(srv.data.port, 5060, 'posted SRV data');
  assertShape(caa, 'CAA');
  assert.equal(caa.content, '0 issuewild ";"', 'posted CAA content');
  assertShape(aaaa, 'AAAA');
  assert.equal(aaaa.ttl, 1, 'posted AAAA ttl');
  assert.deepEqual(aaaa.tags, ['env:test'], 'posted AAAA tags');
  assert.equal(await soaSerial(zone), serial + 1, 'a batch is one change');
  await refused(Cloudflare.NotFoundError, () => cf.dns.records.get(gone.id, { zone_id: zone }), 'deleted by the batch');
  await servedEventually(`gone.${zn}`, 'A', []);
  await servedEventually(`patched.${zn}`, 'A', ['192.0.2.11']);
  await servedEventually(`replaced.${zn}`, 'TXT', ['"new value"']);
  await servedEventually(`_sip._udp.${zn}`, 'SRV', ['1 2 5060 sip.example.net.']);
  await servedEventually(`caa.${zn}`, 'CAA', ['0 issuewild ";"']);

  serial = await soaSerial(zone);
  const same = await cf.dns.records.batch({
    zone_id: zone,
    patches: [{ id: patched.id, name: `patched.${zn}`, type: 'A', ttl: 300, content: '192.0.2.11' }],
  });
  assert.deepEqual(same.patches.map((r) => r.content), ['192.0.2.11'], 'no-op batch answer');
  assert.equal(await soaSerial(zone), serial, 'a batch that changes nothing makes no new serial');

  const before = await all(cf.dns.records.list({ zone_id: zone }));
  const err = await refused(Cloudflare.BadRequestError, () =>
    cf.dns.records.batch({
      zone_id: zone,
      deletes: [{ id: patched.id }],
      posts: [{ name: `bad.${zn}`, type: 'A', ttl: 300, content: 'not-an-address' }],
    }), 'a batch with a bad post');
  assert.match(err.message, /content/, 'the refusal names content');
  assert.deepEqual(await all(cf.dns.records.list({ zone_id: zone })), before, 'a refused batch changes nothing');
  assert.equal(await soaSerial(zone), serial, 'a refused batch makes no new serial');

  // Deletes run before posts: a record deleted and posted again in one batch is no duplicate.
  const post = { name: `patched.${zn}`, type: 'A', ttl: 300, content: '192.0.2.11' };
  const dup = await refused(Cloudflare.BadRequestError, () => cf.dns.records.batch({ zone_id: zone, posts: [post] }), 'a batch posting a duplicate');
  assert.ok(codes(dup).includes(81058), `a batch posting a duplicate: code 81058, got ${JSON.stringify(dup.errors)}`);
  const swapped = await cf.dns.records.batch({ zone_id: zone, deletes: [{ id: patched.id }], posts: [post] });
  assert.equal(swapped.posts.length, 1, 'the swap posts one record');
  assert.notEqual(swapped.posts[0].id, patched.id, 'the posted record is a new one');
  assert.deepEqual((await all(cf.dns.records.list({ zone_id: zone, name: { exact: `patched.${zn}` } }))).map((r) => r.id), [swapped.posts[0].id], 'after the swap');
  await servedEventually(`patched.${zn}`, 'A', ['192.0.2.11']);
  await cf.zones.delete({ zone_id: zone });
}

// ---------------------------------------------------------------------------------------------
// Import and export

async function importExport() {
  const zn = 'ts-io.test';
  let zone = await newZone(zn);
  const file = [
    `$ORIGIN ${zn}.`,
    '$TTL 3600',
    'www        300 IN A      192.0.2.1',
    'alias      300 IN CNAME  www.example.net.',
    '@          300 IN MX     10 mail.example.net.',
    'spf        300 IN TXT    "v=spf1 a ~all"',
    'pair       300 IN TXT    "a" "b"',
    '_sip._tcp  300 IN SRV    10 5 5060 sip.example.net.',
    '@          300 IN CAA    0 issue "letsencrypt.org"',
    `host       300 IN SSHFP  4 2 ${SSHFP_HEX.toUpperCase()}`,
    `_443._tcp  300 IN TLSA   3 1 1 ${TLSA_HEX.toUpperCase()}`,
    '',
  ].join('\n');
  const imported = await cf.dns.records.import({ zone_id: zone, file });
  assert.deepEqual([imported.recs_added, imported.total_records_parsed], [9, 9], `import result ${JSON.stringify(imported)}`);
  const byKey = Object.fromEntries((await all(cf.dns.records.list({ zone_id: zone }))).map((r) => [`${r.name} ${r.type}`, r]));
  const expected = {
    [`www.${zn} A`]: '192.0.2.1',
    [`alias.${zn} CNAME`]: 'www.example.net',
    [`${zn} MX`]: 'mail.example.net',
    [`spf.${zn} TXT`]: 'v=spf1 a ~all',
    [`pair.${zn} TXT`]: '"a" "b"',
    [`_sip._tcp.${zn} SRV`]: '5 5060 sip.example.net',
    [`${zn} CAA`]: '0 issue "letsencrypt.org"',
    [`host.${zn} SSHFP`]: `4 2 ${SSHFP_HEX}`,
    [`_443._tcp.${zn} TLSA`]: `3 1 1 ${TLSA_HEX}`,
  };
  for (const [key, content] of Object.entries(expected)) {
    assert.ok(byKey[key], `${key} not listed after the import`);
    assert.equal(byKey[key].content, content, `${key}: content after import`);
    assertShape(byKey[key], key.split(' ')[1]);
  }
  assert.equal(byKey[`_sip._tcp.${zn} SRV`].data.target, 'sip.example.net', 'imported SRV data');
  await servedEventually(`alias.${zn}`, 'CNAME', ['www.example.net.']);

  const serial = await soaSerial(zone);
  const again = await cf.dns.records.import({ zone_id: zone, file });
  assert.equal(again.recs_added, 0, 'the same file again adds nothing');
  assert.equal(await soaSerial(zone), serial, 'the same file again makes no new serial');

  const exported = await cf.dns.records.export({ zone_id: zone });
  assert.equal(typeof exported, 'string', 'export is text');
  for (const key of Object.keys(expected)) {
    const [name, type] = key.split(' ');
    assert.match(exported, new RegExp(`^${name.replaceAll('.', '\\.')}\\.\\s+\\d+\\s+IN\\s+${type}\\s`, 'm'), `${key} in the export`);
  }
  const snapshot = async () =>
    (await all(cf.dns.records.list({ zone_id: zone })))
      .map((r) => {
        const content = r.type === 'SOA' ? r.content.split(/\s+/).filter((_, i) => i !== 2).join(' ') : r.content;
        return JSON.stringify([r.name, r.type, content, r.ttl, r.priority ?? null]);
      })
      .sort();
  const before = await snapshot();
  assert.equal((await cf.zones.delete({ zone_id: zone })).id, zone, 'zones.delete answers the id');
  zone = await newZone(zn);
  await cf.dns.records.import({ zone_id: zone, file: exported });
  assert.deepEqual(await snapshot(), before, 'the export brings the zone back');
  await cf.zones.delete({ zone_id: zone });
}

// ---------------------------------------------------------------------------------------------
// Zones

async function zones() {
  const zn = 'ts-zone.test';
  const created = await cf.zones.create({ account: { id: accountId }, name: zn, type: 'full' });
  assert.deepEqual([created.name, created.type, created.status, created.paused], [zn, 'full', 'active', false], 'created zone');
  const zone = created.id;
  assert.equal((await cf.zones.get({ zone_id: zone })).name, zn, 'zones.get');
  assert.deepEqual((await all(cf.zones.list({ name: zn }))).map((z) => z.id), [zone], 'zones.list by name');
  assert.deepEqual((await all(cf.zones.list({ name: zn, status: 'active', type: ['full'] }))).map((z) => z.id), [zone], 'zones.list by status and type');
  assert.deepEqual((await all(cf.zones.list({ account: { id: accountId }, name: zn }))).map((z) => z.id), [zone], 'zones.list by account.id');

  await cf.dns.records.create({ zone_id: zone, name: `www.${zn}`, type: 'A', content: '192.0.2.80', ttl: 300 });
  const serial = await soaSerial(zone);
  const paused = await cf.zones.edit({ zone_id: zone, paused: true });
  assert.deepEqual([paused.id, paused.paused], [zone, true], 'zones.edit paused');
  assert.equal((await cf.zones.get({ zone_id: zone })).paused, true, 'paused read back');
  await servedEventually(`www.${zn}`, 'A', ['192.0.2.80']);
  assert.equal(await soaSerial(zone), serial, 'pausing makes no new serial');
  assert.equal((await cf.zones.edit({ zone_id: zone, paused: false })).paused, false, 'unpaused');
  for (const [field, value] of [['type', 'secondary'], ['vanity_name_servers', ['ns1.example.net']]]) {
    const err = await refused(Cloudflare.BadRequestError, () => cf.zones.edit({ zone_id: zone, [field]: value }), `zones.edit ${field}`);
    assert.ok(err.message.includes(field), `the refusal names ${field}: ${err.message}`);
  }
  assert.equal((await cf.zones.get({ zone_id: zone })).type, 'full', 'type unchanged');

  assert.equal((await cf.zones.delete({ zone_id: zone })).id, zone, 'zones.delete');
  await refused(Cloudflare.NotFoundError, () => cf.zones.get({ zone_id: zone }), 'get of a deleted zone');
  assert.deepEqual(await all(cf.zones.list({ name: zn })), [], 'a deleted zone is not listed');
  const deadline = Date.now() + 5000;
  while (rcode(`www.${zn}`, 'A') !== 'REFUSED' && Date.now() < deadline) await sleep(100);
  assert.equal(rcode(`www.${zn}`, 'A'), 'REFUSED', 'a deleted zone is not served');
}

// ---------------------------------------------------------------------------------------------
// The other calls the SDK's users make beside records: token checks, legacy key headers, page
// rules

async function credentials() {
  const verified = await cf.user.tokens.verify();
  assert.equal(verified.status, 'active', `user.tokens.verify ${JSON.stringify(verified)}`);
  assert.match(verified.id, /^[0-9a-f]{32}$/, 'the verified token has an id');
  assert.equal((await cf.accounts.tokens.verify({ account_id: accountId })).status, 'active', 'accounts.tokens.verify');

  // Older tools authenticate with X-Auth-Email + X-Auth-Key; the key is a Tandem token.
  const legacy = new Cloudflare({ apiEmail: 'ops@example.test', apiKey: apiToken, apiToken: null, baseURL, maxRetries: 0 });
  const zone = await newZone('ts-legacy.test');
  assert.ok((await all(legacy.zones.list({ name: 'ts-legacy.test' }))).some((z) => z.id === zone), 'zones listed with X-Auth-Key');
  const wrong = new Cloudflare({ apiEmail: 'ops@example.test', apiKey: 'not-a-token', apiToken: null, baseURL, maxRetries: 0 });
  await refused(Cloudflare.AuthenticationError, () => wrong.zones.get({ zone_id: zone }), 'a wrong X-Auth-Key');

  const rules = await cf.pageRules.list({ zone_id: zone });
  assert.deepEqual(rules, [], `pageRules.list ${JSON.stringify(rules)}`);
}

// ---------------------------------------------------------------------------------------------

const SECTIONS = [
  ['record types, content and data forms', recordTypes],
  ['ttl, metadata, errors, PUT/PATCH', ttlMetadataAndErrors],
  ['list filters', listFilters],
  ['auto-pagination', autoPagination],
  ['batch', batch],
  ['import and export', importExport],
  ['zones', zones],
  ['token verify, legacy key headers, page rules', credentials],
];

const keepGoing = process.env.TANDEM_SDK_KEEP_GOING === '1';
const accounts = await all(cf.accounts.list());
accountId = accounts.find((a) => a.name === 'default')?.id;
assert.ok(accountId, `no account named default in ${JSON.stringify(accounts)}`);

const failed = [];
for (const [title, section] of SECTIONS) {
  try {
    await section();
    console.log(`ok      ${title}`);
  } catch (err) {
    failed.push(title);
    console.log(`FAILED  ${title}`);
    console.error(`\n${title}: ${err.message}\n${err.stack?.split('\n').slice(1, 4).join('\n') ?? ''}\n`);
    if (!keepGoing) break;
  }
}
if (failed.length) {
  console.error(`the TypeScript SDK test failed in: ${failed.join('; ')}`);
  process.exit(1);
}
console.log(`the TypeScript SDK (cloudflare ${VERSION}) drove all ${SECTIONS.length} sections`);
