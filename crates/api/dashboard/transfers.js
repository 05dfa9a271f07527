// A zone's transfers: its primaries (secondary zones: refresh interval, transfer now), its
// secondaries (outgoing on/off, NOTIFY now), what happened with each peer, and the serial each
// linked provider answers right now beside ours.

import { call, enc, errorsOf } from './api.js';
import { announce, button, confirmDialog, el, field, formError, input, orDash, replace, row, showErrors, table, uid, when } from './dom.js';
import { badge, transferConfigs } from './zones.js';

/** The most peers a zone links in each direction (PRODUCT §1). */
export const MAX_PEERS = 30;

export function transfersSection(zone, account, onChange) {
  const holder = el('div', { 'aria-busy': 'true' }, el('p', { text: 'Loading transfer settings…' }));
  const providers = providersView(zone);
  const view = { zone, account, holder, peers: [] };
  view.reload = async () => {
    await load(view);
    onChange();
    providers.reload();
  };
  load(view);
  providers.reload();
  const section = el('section', { class: 'card', id: 'transfers', 'aria-labelledby': 'transfers-title' },
    el('h2', { id: 'transfers-title', text: 'Zone transfers' }), holder);
  return el('div', {}, section, providers.node);
}

async function load(view) {
  const { zone, account } = view;
  try {
    const [peers, { incoming, outgoing }] = await Promise.all([
      call('GET', `/accounts/${enc(account.id)}/secondary_dns/peers`),
      transferConfigs(zone, { fresh: true }),
    ]);
    view.peers = peers;
    replace(view.holder,
      zone.type === 'secondary' ? incomingPanel(view, incoming) : null,
      outgoingPanel(view, outgoing));
  } catch (e) {
    replace(view.holder, el('p', { class: 'form-error', role: 'alert', text: e.message }));
  }
  view.holder.removeAttribute('aria-busy');
}

function peerName(view, id) {
  return view.peers.find((p) => p.id === id)?.name ?? id;
}

function address(peer) {
  if (!peer.ip) return 'no ip';
  return peer.ip.includes(':') ? `[${peer.ip}]:${peer.port}` : `${peer.ip}:${peer.port}`;
}

/**
 * Checkboxes for the account's peers, `chosen` ticked, with the count against the limit. Past
 * the limit the count says so; saving then shows the API's refusal under the list.
 */
function peerPicker(view, chosen, legend) {
  const boxes = [];
  const counter = el('p', { class: 'counter', 'aria-live': 'polite' });
  const count = () => {
    const n = boxes.filter((b) => b.checked).length;
    counter.textContent = n > MAX_PEERS
      ? `${n} of at most ${MAX_PEERS} peers chosen: too many, a zone links at most ${MAX_PEERS}.`
      : `${n} of at most ${MAX_PEERS} peers chosen.`;
    counter.classList.toggle('over', n > MAX_PEERS);
  };
  const items = view.peers.map((peer) => {
    const box = el('input', { type: 'checkbox', id: uid('peer'), value: peer.id, checked: chosen.includes(peer.id), onchange: count });
    boxes.push(box);
    return el('li', { 'data-peer': peer.name }, box, el('label', { htmlFor: box.id }, peer.name, el('span', { class: 'hint', text: ` ${address(peer)}${peer.tsig_id ? ', TSIG' : ''}` })));
  });
  const fieldset = el('fieldset', { class: 'peer-picker', 'data-field': 'peers' },
    el('legend', { text: legend }),
    counter,
    el('p', { class: 'field-error', 'data-error-for': 'peers', 'aria-live': 'polite' }),
    view.peers.length
      ? el('ul', {}, items)
      : el('p', {}, 'This account has no peers yet. ', el('a', { href: '#/settings', text: 'Add peers in the account settings.' })));
  count();
  // Keep the order the zone had, then the newly ticked in list order.
  const values = () => {
    const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
    return [...chosen.filter((id) => ticked.includes(id)), ...ticked.filter((id) => !chosen.includes(id))];
  };
  return { node: fieldset, values };
}

/** A small table of facts. */
function facts(pairs) {
  return el('dl', { class: 'summary' }, pairs.map(([term, value]) => [el('dt', { text: term }), el('dd', {}, value)]));
}

async function action(label, method, path, done) {
  try {
    const result = await call(method, path);
    announce(`${label}: ${typeof result === 'string' ? result : 'done'}.`);
    await done();
  } catch (e) {
    announce(`${label} failed: ${e.message}`, { error: true });
  }
}

function incomingPanel(view, cfg) {
  const base = `/zones/${enc(view.zone.id)}/secondary_dns`;
  const panel = el('div', { class: 'panel', id: 'incoming', 'aria-labelledby': 'incoming-title', role: 'group' },
    el('h3', { id: 'incoming-title', text: 'Incoming: primaries this zone is transferred from' }));
  if (cfg) {
    panel.append(
      facts([
        ['State', badge({ level: cfg.state === 'ok' ? 'ok' : cfg.state === 'pending' ? 'warn' : 'bad', text: cfg.state })],
        ['Serial served', orDash(cfg.soa_serial)],
        ['Last checked', when(cfg.checked_time)],
        ['Next refresh', when(cfg.next_refresh_time)],
        ['Expires', when(cfg.expires_time)],
      ]),
      el('p', { class: 'actions' },
        button('Transfer now (full AXFR)', () => action('Transfer now', 'POST', `${base}/force_axfr`, view.reload), { id: 'force-axfr' })),
      table('What each primary last answered',
        ['Primary', 'Last checked', 'Last result', 'Last transfer', 'Type', 'Serial'],
        (cfg.peer_status || []).map((p) => row([peerName(view, p.peer_id), when(p.last_check_time), orDash(p.last_result),
          when(p.last_transfer_time), orDash(p.last_transfer_type), orDash(p.last_transfer_serial)])),
        { id: 'incoming-status' }));
  }
  const picker = peerPicker(view, cfg?.peers ?? [], 'Primaries (each needs an ip)');
  const refresh = input({ type: 'number', min: 1, value: String(cfg?.auto_refresh_seconds ?? 86400) });
  const form = el('form', { novalidate: true, id: 'incoming-form', 'aria-label': 'Incoming transfer settings' },
    picker.node,
    field('Refresh interval (seconds)', 'auto_refresh_seconds', refresh, 'SOA check regardless of NOTIFY; default 86400'),
    formError(),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', text: cfg ? 'Save incoming settings' : 'Start transferring in' }),
      cfg ? button('Remove incoming settings', () => removeConfig(view, `${base}/incoming`, 'the incoming transfer settings'), { class: 'danger' }) : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { peers: picker.values(), auto_refresh_seconds: refresh.value === '' ? undefined : Number(refresh.value) };
    save(view, form, cfg ? 'PUT' : 'POST', `${base}/incoming`, body, 'Incoming settings saved');
  });
  panel.append(form);
  return panel;
}

function outgoingPanel(view, cfg) {
  const base = `/zones/${enc(view.zone.id)}/secondary_dns/outgoing`;
  const title = view.zone.type === 'full'
    ? 'Outgoing: secondaries this zone is transferred to'
    : 'Outgoing: further secondaries fed from this copy';
  const panel = el('div', { class: 'panel', id: 'outgoing', 'aria-labelledby': 'outgoing-title', role: 'group' },
    el('h3', { id: 'outgoing-title', text: title }));
  if (cfg) {
    panel.append(
      el('div', { class: 'actions' }, outgoingSwitch(view, cfg, base),
        button('Send NOTIFY now', () => action('NOTIFY', 'POST', `${base}/force_notify`, view.reload), { id: 'force-notify', disabled: !cfg.enabled })),
      facts([
        ['Serial served', orDash(cfg.soa_serial)],
        ['Last transferred', when(cfg.last_transferred_time)],
      ]),
      table('What each secondary last did',
        ['Secondary', 'Last NOTIFY', 'NOTIFY result', 'Last transfer', 'Type', 'Serial'],
        (cfg.peer_status || []).map((p) => row([peerName(view, p.peer_id), when(p.last_notify_time), orDash(p.last_notify_result),
          when(p.last_transfer_time), orDash(p.last_transfer_type), orDash(p.last_transfer_serial)])),
        { id: 'outgoing-status' }));
  } else {
    panel.append(el('p', { class: 'hint', text: 'Not transferred to any secondary. Choose its secondaries and save; transfers then start disabled until you turn them on.' }));
  }
  const picker = peerPicker(view, cfg?.peers ?? [], 'Secondaries');
  const form = el('form', { novalidate: true, id: 'outgoing-form', 'aria-label': 'Outgoing transfer settings' },
    picker.node,
    formError(),
    el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'primary', text: cfg ? 'Save secondaries' : 'Set up outgoing transfers' }),
      cfg ? button('Remove outgoing settings', () => removeConfig(view, base, 'the outgoing transfer settings'), { class: 'danger' }) : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(view, form, cfg ? 'PUT' : 'POST', base, { peers: picker.values() }, 'Outgoing settings saved');
  });
  panel.append(form);
  return panel;
}

/** On/off of outgoing transfers, as a switch that says its state in words. */
function outgoingSwitch(view, cfg, base) {
  const on = cfg.enabled;
  return el('button', {
    type: 'button',
    role: 'switch',
    id: 'outgoing-switch',
    class: `switch ${on ? 'on' : 'off'}`,
    'aria-checked': on ? 'true' : 'false',
    onclick: () => action('Outgoing transfers', 'POST', `${base}/${on ? 'disable' : 'enable'}`, view.reload),
  }, el('span', { class: 'knob', 'aria-hidden': 'true' }), `Outgoing transfers: ${on ? 'on' : 'off'}`);
}

async function save(view, form, method, path, body, message) {
  try {
    await call(method, path, body);
    announce(`${message}.`);
    await view.reload();
  } catch (e) {
    showErrors(form, errorsOf(e));
  }
}

async function removeConfig(view, path, what) {
  if (!(await confirmDialog(`Remove ${what} of ${view.zone.name}?`, 'Remove'))) return;
  await action('Removed', 'DELETE', path, view.reload);
}

/** RFC 1982: how far `theirs` is ahead of (positive) or behind (negative) `ours`. */
export function serialDistance(ours, theirs) {
  const diff = (theirs - ours + 2 ** 32) % 2 ** 32;
  return diff < 2 ** 31 ? diff : diff - 2 ** 32;
}

function comparison(entry) {
  if (entry.serial === null || entry.serial === undefined) {
    return { state: 'error', level: 'bad', text: `no answer: ${entry.error ?? 'unknown error'}` };
  }
  if (entry.our_serial === null || entry.our_serial === undefined) {
    return { state: 'differs', level: 'warn', text: 'we serve no serial yet' };
  }
  const distance = serialDistance(entry.our_serial, entry.serial);
  if (distance === 0) return { state: 'same', level: 'ok', text: 'same serial' };
  const how = distance > 0 ? `ahead of ours by ${distance}` : `behind ours by ${-distance}`;
  return { state: 'differs', level: 'bad', text: `differs: ${how}` };
}

/** The multi-provider view: the serial each linked peer answers now, beside ours. */
function providersView(zone) {
  const summary = el('p', { class: 'summary-line', 'aria-live': 'polite', id: 'providers-summary' });
  const holder = el('div');
  const refresh = button('Ask the peers again', () => reload(), { id: 'providers-refresh' });
  const node = el('section', { class: 'card', id: 'providers', 'aria-labelledby': 'providers-title' },
    el('h2', { id: 'providers-title', text: 'Serial at each provider' }),
    el('p', { class: 'hint', text: 'Every linked peer is asked, live, for the SOA serial it serves for this zone, next to the serial Tandem serves.' }),
    el('div', { class: 'actions' }, refresh), summary, holder);
  const reload = async () => {
    refresh.disabled = true;
    summary.textContent = 'Asking the peers…';
    try {
      const entries = await call('GET', `/zones/${enc(zone.id)}/secondary_dns/peer_serials`);
      drawProviders(holder, summary, entries);
    } catch (e) {
      summary.textContent = `The peers could not be asked: ${e.message}`;
    }
    refresh.disabled = false;
  };
  return { node, reload };
}

function providersSummary(entries, differ) {
  const ours = entries[0].our_serial;
  const n = entries.length;
  if (ours === null || ours === undefined) {
    const answered = entries.filter((e) => e.serial !== null && e.serial !== undefined).length;
    return `We serve no copy of this zone yet; ${answered} of ${n} linked peers answered a serial.`;
  }
  if (!differ) return `Every linked peer serves our serial ${ours}.`;
  return `${differ} of ${n} linked peers ${differ === 1 ? 'does' : 'do'} not serve our serial ${ours}.`;
}

function drawProviders(holder, summary, entries) {
  if (!entries.length) {
    summary.textContent = 'No peer is linked to this zone, so there is no other provider to compare with.';
    holder.replaceChildren();
    return;
  }
  const results = entries.map(comparison);
  const differ = results.filter((r) => r.state !== 'same').length;
  summary.textContent = providersSummary(entries, differ);
  summary.className = `summary-line ${differ ? 'bad' : 'ok'}`;
  const rows = entries.map((entry, i) => row([
    entry.name,
    entry.role,
    entry.ip ? address(entry) : 'no ip',
    el('span', { class: 'serial', text: orDash(entry.serial) }),
    el('span', { class: 'serial', text: orDash(entry.our_serial) }),
    entry.rtt_ms === null || entry.rtt_ms === undefined ? '—' : `${entry.rtt_ms} ms`,
    badge(results[i]),
  ], { 'data-peer': entry.name, 'data-state': results[i].state, class: results[i].state === 'same' ? '' : 'flagged' }));
  replace(holder, table('Serial each linked peer answers, beside ours',
    ['Peer', 'Role', 'Address', 'Their serial', 'Our serial', 'Round trip', 'Comparison'], rows, { id: 'providers-table' }));
}
