// Account settings: the account's TSIG keys, peers and ACLs — list, create, edit, delete. Each
// error the API reports is shown under the field it names.

import { call, enc, errorsOf } from './api.js';
import { announce, append, button, confirmDialog, el, field, formError, input, replace, row, select, showErrors, table, uid } from './dom.js';

const ALGORITHMS = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512', 'hmac-sha1'];

export async function renderSettings(page, ctx) {
  const account = ctx.account();
  document.title = 'Account settings — Tandem';
  const base = `/accounts/${enc(account.id)}/secondary_dns`;
  const data = { tsigs: [], peers: [], acls: [], revealed: new Set() };
  const sections = [];
  const reload = async () => {
    try {
      [data.tsigs, data.peers, data.acls] = await Promise.all(
        ['tsigs', 'peers', 'acls'].map((kind) => call('GET', `${base}/${kind}`)));
    } catch (e) {
      announce(`The settings could not be loaded: ${e.message}`, { error: true });
      return;
    }
    for (const section of sections) section.draw(data);
  };
  sections.push(
    objectSection(tsigSpec(data), base, reload),
    objectSection(peerSpec(data), base, reload),
    objectSection(aclSpec(), base, reload));
  page.append(
    el('h1', { text: 'Account settings' }),
    el('p', { class: 'hint', text: `Peers, TSIG keys and ACLs of ${account.name}, used by the zone transfers of its zones.` }),
    ...sections.map((s) => s.node));
  await reload();
}

/**
 * One kind of object: its table, and a form that adds one or, after Edit, replaces one (PUT
 * replaces every field, so the form always sends them all).
 */
function objectSection(spec, base, reload) {
  const path = `${base}/${spec.kind}`;
  const tableHolder = el('div');
  const formHolder = el('div');
  const listError = formError();
  const node = el('section', { class: 'card', id: spec.kind, 'aria-labelledby': `${spec.kind}-title` },
    el('h2', { id: `${spec.kind}-title`, text: spec.title }),
    el('p', { class: 'hint', text: spec.intro }),
    listError, tableHolder, formHolder);
  let data = null;

  const openForm = (object) => {
    const { fields, read, focus } = spec.form(object);
    const noun = spec.noun;
    const title = object ? `Edit ${noun} ${object.name}` : `Add ${spec.article} ${noun}`;
    const form = el('form', { novalidate: true, id: `${spec.kind}-form`, 'aria-label': title },
      el('h3', { text: title }),
      el('div', { class: 'row' }, fields),
      formError(),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', text: object ? `Save ${noun}` : `Add ${noun}` }),
        object ? button('Cancel', () => openForm(null)) : null));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const saved = await call(object ? 'PUT' : 'POST', object ? `${path}/${enc(object.id)}` : path, read());
        spec.saved?.(saved);
        announce(`${capital(noun)} ${saved.name} ${object ? 'saved' : 'added'}.`);
        await reload();
        node.querySelector('form input')?.focus();
      } catch (e) {
        showErrors(form, errorsOf(e));
      }
    });
    replace(formHolder, form);
    if (object) focus.focus();
  };

  const remove = async (object) => {
    if (!(await confirmDialog(`Delete ${spec.noun} ${object.name}?`, `Delete ${spec.noun}`))) return;
    try {
      await call('DELETE', `${path}/${enc(object.id)}`);
      listError.textContent = '';
      announce(`${capital(spec.noun)} ${object.name} deleted.`);
      await reload();
    } catch (e) {
      listError.textContent = e.message;
    }
  };

  const draw = (fresh) => {
    data = fresh;
    const items = data[spec.kind];
    const rows = items.map((object) => row([
      ...spec.cells(object),
      el('span', { class: 'actions' },
        button('Edit', () => openForm(object), { class: 'small', 'aria-label': `Edit ${spec.noun} ${object.name}` }),
        button('Delete', () => remove(object), { class: 'small danger', 'aria-label': `Delete ${spec.noun} ${object.name}` })),
    ], { 'data-name': object.name }));
    replace(tableHolder, items.length
      ? table(spec.title, [...spec.head, 'Actions'], rows, { id: `${spec.kind}-table` })
      : el('p', { text: `No ${spec.noun}s yet.` }));
    openForm(null);
  };
  return { node, draw };
}

function capital(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function tsigSpec(data) {
  return {
    kind: 'tsigs',
    noun: 'TSIG key',
    article: 'a',
    title: 'TSIG keys',
    intro: 'Shared secrets that sign transfers, SOA queries and NOTIFYs (RFC 8945). Leave the secret blank to have the server generate a strong one.',
    head: ['Key name', 'Algorithm', 'Secret'],
    cells: (k) => [k.name, k.algo, secretCell(k, data.revealed)],
    saved: (k) => data.revealed.add(k.id),
    form: (k) => {
      const name = input({ value: k?.name ?? '', placeholder: 'k1.example.' });
      const algo = select(ALGORITHMS.map((a) => [a, a]), { value: (k?.algo ?? 'hmac-sha256.').replace(/\.$/, '') });
      const secret = input({ value: k?.secret ?? '', placeholder: 'blank: generated by the server' });
      return {
        fields: [
          field('Key name', 'name', name),
          field('Algorithm', 'algo', algo),
          field('Secret (base64)', 'secret', secret, k ? 'Emptying it generates a new secret.' : 'Blank: the server generates one.'),
        ],
        read: () => ({ name: name.value.trim(), algo: algo.value, secret: secret.value.trim() }),
        focus: name,
      };
    },
  };
}

/** A secret, hidden until asked for, with a copy button. */
function secretCell(key, revealed) {
  const shown = revealed.has(key.id);
  const code = el('code', { class: 'secret', text: shown ? key.secret : '••••••••••••' });
  const toggle = button(shown ? 'Hide' : 'Show', null, { class: 'small', 'aria-label': `${shown ? 'Hide' : 'Show'} the secret of ${key.name}` });
  toggle.addEventListener('click', () => {
    if (revealed.has(key.id)) revealed.delete(key.id);
    else revealed.add(key.id);
    toggle.closest('td').replaceWith(el('td', {}, secretCell(key, revealed)));
  });
  const copy = button('Copy', () => copySecret(key), { class: 'small', 'aria-label': `Copy the secret of ${key.name}` });
  return append(el('span', { class: 'secret-cell' }), code, ' ', toggle, ' ', copy);
}

async function copySecret(key) {
  try {
    await navigator.clipboard.writeText(key.secret);
  } catch {
    // Without clipboard permission: the old way, through a selected text field.
    const area = el('textarea', { class: 'offscreen', value: key.secret, 'aria-hidden': 'true' });
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  announce(`Secret of ${key.name} copied.`);
}

function peerSpec(data) {
  const keyName = (id) => data.tsigs.find((k) => k.id === id)?.name ?? id;
  return {
    kind: 'peers',
    noun: 'peer',
    article: 'a',
    title: 'Peers',
    intro: 'Name servers this account transfers with: the primaries of its secondary zones and the secondaries of its zones.',
    head: ['Name', 'Address', 'IXFR', 'TSIG key'],
    cells: (p) => [p.name, p.ip ? `${p.ip} port ${p.port}` : `no ip, port ${p.port}`, p.ixfr_enable ? 'yes' : 'no', p.tsig_id ? keyName(p.tsig_id) : 'none'],
    form: (p) => {
      const name = input({ value: p?.name ?? '', placeholder: 'ns2 at provider B' });
      const ip = input({ value: p?.ip ?? '', placeholder: '192.0.2.53 or 2001:db8::53' });
      const port = input({ type: 'number', value: String(p?.port ?? 53), min: 1, max: 65535 });
      const ixfr = el('input', { type: 'checkbox', id: uid('ixfr'), checked: Boolean(p?.ixfr_enable) });
      const tsig = select([['', 'none'], ...data.tsigs.map((k) => [k.id, k.name])], { value: p?.tsig_id ?? '' });
      return {
        fields: [
          field('Name', 'name', name),
          field('IP address', 'ip', ip, 'Where NOTIFY or transfer requests go; needed for a primary.'),
          field('Port', 'port', port),
          field('TSIG key', 'tsig_id', tsig),
          el('div', { class: 'field check', 'data-field': 'ixfr_enable' }, ixfr,
            el('label', { htmlFor: ixfr.id, text: 'Ask this primary for IXFR' }),
            el('p', { class: 'field-error', 'data-error-for': 'ixfr_enable', 'aria-live': 'polite' })),
        ],
        read: () => ({
          name: name.value.trim(),
          ip: ip.value.trim() || null,
          port: port.value === '' ? undefined : Number(port.value),
          ixfr_enable: ixfr.checked,
          tsig_id: tsig.value || null,
        }),
        focus: name,
      };
    },
  };
}

function aclSpec() {
  return {
    kind: 'acls',
    noun: 'ACL',
    article: 'an',
    title: 'ACLs',
    intro: 'Extra sources allowed to request transfers of this account\'s zones and to send NOTIFY to its secondary zones.',
    head: ['Name', 'IP range'],
    cells: (a) => [a.name, a.ip_range],
    form: (a) => {
      const name = input({ value: a?.name ?? '', placeholder: 'office' });
      const range = input({ value: a?.ip_range ?? '', placeholder: '192.0.2.0/24' });
      return {
        fields: [
          field('Name', 'name', name),
          field('IP range (CIDR)', 'ip_range', range, 'At most /24 for IPv4 and /64 for IPv6; a bare address is that host.'),
        ],
        read: () => ({ name: name.value.trim(), ip_range: range.value.trim() }),
        focus: name,
      };
    },
  };
}
