// The ledger explorer: reads the hub's public ledger API and checks, with
// the browser's own WebCrypto (SHA-256, Ed25519), that an entry is in the
// tree of the signed checkpoint (RFC 9162 inclusion proof, C2SP signed note).
'use strict';

const $ = (id) => document.getElementById(id);
const utf8 = (text) => new TextEncoder().encode(text);

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(...parts) {
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

// RFC 6962: leaves and interior nodes are hashed with distinct prefixes.
const leafHash = (data) => sha256(Uint8Array.of(0), data);
const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

// RFC 9162 section 2.1.3.2, with arithmetic that stays exact past 2^31.
async function rootFromInclusionProof(index, size, leaf, path) {
  if (index >= size) throw new Error('the entry is not in a tree of this size');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const half = (n) => Math.floor(n / 2);
  for (const p of path) {
    if (sn === 0) throw new Error('the proof has more hashes than the tree has levels');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new Error('the proof has fewer hashes than the tree has levels');
  return r;
}

// A C2SP signed note: the body, a blank line, then `— name base64` lines.
function parseNote(text) {
  const end = text.indexOf('\n\n');
  if (end < 0) throw new Error('the checkpoint is not a signed note');
  const body = text.slice(0, end + 1);
  const [origin, size, root] = body.split('\n');
  const signatures = text
    .slice(end + 2)
    .split('\n')
    .map((line) => /^\u2014 (\S+) (\S+)$/.exec(line))
    .filter(Boolean)
    .map(([, name, sig]) => ({ name, bytes: fromBase64(sig) }));
  return { body, origin, size: Number(size), root: fromBase64(root), signatures };
}

// A C2SP note verifier key: name+keyhash+base64(0x01 || Ed25519 key).
async function parseVerifierKey(text) {
  // Split on the first two '+' only: the base64 key may itself contain '+'.
  const [, name, id, key] = /^([^+]+)\+([0-9a-fA-F]{8})\+(\S+)$/.exec(text.trim()) || [];
  if (!name || !id || !key) throw new Error('the verifier key is not name+hash+key');
  const raw = fromBase64(key);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('the verifier key is not an Ed25519 note key');
  const expected = (await sha256(utf8(name), Uint8Array.of(10), raw)).slice(0, 4);
  if (hex(expected) !== id.toLowerCase()) throw new Error('the verifier key hash does not match its key');
  return { name, id: expected, publicKey: raw.slice(1) };
}

async function noteSignedBy(note, verifier) {
  const line = note.signatures.find((s) => s.name === verifier.name && equal(s.bytes.slice(0, 4), verifier.id));
  if (!line) return false;
  const key = await crypto.subtle.importKey('raw', verifier.publicKey, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, line.bytes.slice(4), utf8(note.body));
}

async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

const ENTRY_FIELDS = 'seq recordedAt kind actor subject payloadHash prevHash entryHash signature payload erased receipt { seq entryHash signature }';
const ENTRY = `query($seq: Int!) { ledgerEntry(seq: $seq) { ${ENTRY_FIELDS} } }`;
const ENTRIES = `query($after: String, $kind: String, $subject: String) {
  ledgerEntries(after: $after, first: 20, kind: $kind, subject: $subject) {
    edges { node { ${ENTRY_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const PROOF = 'query($seq: Int!, $treeSize: Int) { inclusionProof(seq: $seq, treeSize: $treeSize) { seq treeSize leafHash rootHash hashes } }';

let search = {};
let shown = null;

async function showCheckpoint() {
  try {
    const [note, key] = await Promise.all([
      fetch('/ledger/checkpoint').then((r) => (r.ok ? r.text() : Promise.reject(new Error('no checkpoint yet')))),
      fetch('/ledger/key').then((r) => r.text()),
    ]);
    const parsed = parseNote(note);
    $('checkpoint-size').textContent = String(parsed.size);
    $('checkpoint-root').textContent = hex(parsed.root);
    const witnesses = parsed.signatures.map((s) => s.name).filter((n) => n !== parsed.origin);
    $('checkpoint-witnesses').textContent = witnesses.length ? witnesses.join(', ') : 'none';
    $('checkpoint-note').textContent = note;
    if (!$('verifier-key').value) $('verifier-key').value = key.trim();
    $('checkpoint-status').textContent = `Signed by ${parsed.origin}.`;
  } catch (error) {
    $('checkpoint-status').textContent = `The checkpoint could not be read: ${error.message}`;
  }
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function showEntries(entries, append) {
  const body = $('results').querySelector('tbody');
  if (!append) body.replaceChildren();
  for (const entry of entries) {
    const row = document.createElement('tr');
    cell(row, String(entry.seq));
    cell(row, entry.recordedAt);
    cell(row, entry.kind);
    cell(row, entry.actor);
    const open = document.createElement('button');
    open.textContent = 'Open';
    open.addEventListener('click', () => showEntry(entry));
    cell(row, '').appendChild(open);
    body.appendChild(row);
  }
  $('results').hidden = body.children.length === 0;
}

function showEntry(entry) {
  shown = entry;
  const fields = $('entry-fields');
  fields.replaceChildren();
  for (const name of ['seq', 'recordedAt', 'kind', 'actor', 'subject', 'payloadHash', 'prevHash', 'entryHash', 'signature', 'erased']) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = entry[name] === null ? '–' : String(entry[name]);
    fields.append(dt, dd);
  }
  $('entry-title').textContent = `Entry ${entry.seq}`;
  $('entry-payload').textContent = entry.payload === null ? '(erased)' : JSON.stringify(entry.payload, null, 2);
  $('entry-receipt').textContent = JSON.stringify(entry.receipt, null, 2);
  $('proof-result').textContent = '';
  $('proof-result').className = '';
  $('entry-panel').hidden = false;
}

async function runSearch(after) {
  $('search-status').textContent = 'Searching…';
  try {
    const seq = $('search-seq').value.trim();
    if (seq) {
      const { ledgerEntry } = await graphql(ENTRY, { seq: Number(seq) });
      showEntries(ledgerEntry ? [ledgerEntry] : [], false);
      $('next-page').hidden = true;
      $('search-status').textContent = ledgerEntry ? '1 entry.' : `No entry ${seq}.`;
      return;
    }
    if (!after) {
      search = {
        kind: $('search-kind').value.trim() || null,
        subject: $('search-subject').value.trim() || null,
      };
    }
    const { ledgerEntries } = await graphql(ENTRIES, { ...search, after: after || null });
    const entries = ledgerEntries.edges.map((e) => e.node);
    showEntries(entries, Boolean(after));
    const next = $('next-page');
    next.hidden = !ledgerEntries.pageInfo.hasNextPage;
    next.dataset.after = ledgerEntries.pageInfo.endCursor || '';
    const total = $('results').querySelector('tbody').children.length;
    $('search-status').textContent = `${total} ${total === 1 ? 'entry' : 'entries'}${next.hidden ? '.' : ' so far.'}`;
  } catch (error) {
    $('search-status').textContent = `The search failed: ${error.message}`;
  }
}

function sayProof(holds, text) {
  $('proof-result').textContent = text;
  $('proof-result').className = holds ? 'holds' : 'fails';
}

async function checkProof() {
  const entry = shown;
  sayProof(false, 'Checking…');
  try {
    if (!window.crypto || !crypto.subtle) throw new Error('this page needs WebCrypto: open it over https');
    const note = parseNote(await fetch('/ledger/checkpoint').then((r) => r.text()));
    const verifier = await parseVerifierKey($('verifier-key').value);
    if (!(await noteSignedBy(note, verifier))) {
      return sayProof(false, `The proof does not hold: the checkpoint is not signed by the key ${verifier.name}.`);
    }
    if (entry.seq >= note.size) {
      return sayProof(false, `Entry ${entry.seq} is newer than the checkpoint of ${note.size} entries; check again after the next one.`);
    }
    const { inclusionProof } = await graphql(PROOF, { seq: entry.seq, treeSize: note.size });
    const leaf = await leafHash(fromBase64(entry.entryHash));
    if (!equal(leaf, fromBase64(inclusionProof.leafHash))) {
      return sayProof(false, 'The proof does not hold: it is for another entry.');
    }
    const root = await rootFromInclusionProof(entry.seq, note.size, leaf, inclusionProof.hashes.map(fromBase64));
    if (!equal(root, note.root)) {
      return sayProof(false, `The proof does not hold: it leads to ${hex(root)}, not to the signed root ${hex(note.root)}.`);
    }
    sayProof(true, `The proof holds: entry ${entry.seq} is in the ledger of ${note.size} entries whose root ${verifier.name} signed.`);
  } catch (error) {
    sayProof(false, `The proof does not hold: ${error.message}.`);
  }
}

$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  runSearch(null);
});
$('next-page').addEventListener('click', () => runSearch($('next-page').dataset.after));
$('check-proof').addEventListener('click', checkProof);
showCheckpoint();
