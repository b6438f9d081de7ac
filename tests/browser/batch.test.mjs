// Large and hostile batches in the browser app: 500 generated files with 10% broken ones (a row
// each, the broken ones and only they in error, the library and its exports holding every good
// one), cancelling a running batch (the library stays consistent, the files never sent say
// "cancelled"), and a file past the in-memory size limit (refused on its row, never read: a
// sparse 1.5 GiB file on disk takes no space). Run by scripts/test-browser.sh with the fixture
// models: DIST=<dist dir with models/> node batch.test.mjs
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { session, TIMEOUT } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.DIST ?? join(here, '../../dist'));
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, 'artifacts'));
const index = JSON.parse(await readFile(join(dist, 'models/index.json'), 'utf8'));
const tasks = index.bundles.length;

const RATE = 22_050;
/** A 16-bit mono WAV of `seconds` of a tone (frequency by `n`) with a little noise. */
function wav(seconds, n) {
  const frames = Math.round(seconds * RATE);
  const out = Buffer.alloc(44 + frames * 2);
  out.write('RIFF', 0); out.writeUInt32LE(36 + frames * 2, 4); out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16); out.writeUInt16LE(1, 20); out.writeUInt16LE(1, 22);
  out.writeUInt32LE(RATE, 24); out.writeUInt32LE(RATE * 2, 28); out.writeUInt16LE(2, 32); out.writeUInt16LE(16, 34);
  out.write('data', 36); out.writeUInt32LE(frames * 2, 40);
  const freq = 110 * 2 ** ((n % 48) / 12);
  for (let i = 0; i < frames; i++) {
    const noise = ((i * 7919 + n * 104_729) % 2001) / 1000 - 1;
    out.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * freq * i) / RATE) + 800 * noise), 44 + i * 2);
  }
  return out;
}
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0c4d1a50000000049454e44ae426082', 'hex');
/** Broken files, in turn: each one's name and bytes. */
const BROKEN = [
  (i) => [`broken-${i}-empty.wav`, Buffer.alloc(0)],
  (i) => [`broken-${i}-truncated.wav`, wav(1, i).subarray(0, 44 + 4_000)],
  (i) => [`broken-${i}-image.mp3`, PNG],
  (i) => [`broken-${i}-one-byte.flac`, Buffer.from([0x66])],
  (i) => [`broken-${i}-page.ogg`, Buffer.from('<!doctype html><title>not audio</title><p>hello</p>\n'.repeat(20))],
];

/** Writes `count` files into a fresh folder, every tenth broken; resolves to their paths and names. */
async function folder(count, seconds, prefix) {
  const dir = await mkdtemp(join(tmpdir(), `musicat-${prefix}-`));
  const good = [];
  const broken = [];
  const paths = [];
  for (let i = 0; i < count; i++) {
    const id = String(i).padStart(3, '0');
    const [name, bytes] = prefix === 'batch' && i % 10 === 9 ? BROKEN[(i / 10 | 0) % BROKEN.length](id) : [`${prefix}-${id}.wav`, wav(seconds, i)];
    (name.startsWith('broken') ? broken : good).push(name);
    paths.push(join(dir, name));
    await writeFile(join(dir, name), bytes);
  }
  return { dir, paths, good, broken };
}

const { page, url, step, trouble, finish } = await session({ dist, artifacts });
const rows = () => page.$$eval('[data-testid=job]', (r) => r.map((row) => ({
  name: row.querySelector('.job-name').textContent,
  status: row.dataset.status,
  text: row.querySelector('[data-testid=job-status]').textContent,
})));
const libraryCount = async () => Number(await page.textContent('[data-testid=library-count]'));
const settled = () => page.waitForFunction(
  () => document.querySelectorAll('[data-testid=job]').length > 0
    && document.querySelectorAll('[data-testid=job][data-status=queued], [data-testid=job][data-status=running]').length === 0,
  null, { timeout: 5 * TIMEOUT });
/** What IndexedDB holds: track names, and tracks missing a verdict or a timeline, and orphan rows. */
const stored = () => page.evaluate(async (tasks) => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('musicat'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const all = (store) => new Promise((ok, fail) => {
    const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
  const [tracks, classifications, segments] = [await all('tracks'), await all('classifications'), await all('segments')];
  db.close();
  const ids = new Set(tracks.map((t) => t.id));
  const count = (rows) => rows.reduce((m, r) => m.set(r.track_id, (m.get(r.track_id) ?? 0) + 1), new Map());
  const verdicts = count(classifications);
  const slices = count(segments.filter((s) => s.task));
  return {
    names: tracks.map((t) => t.name),
    incomplete: tracks.filter((t) => verdicts.get(t.id) !== tasks || (slices.get(t.id) ?? 0) < tasks).map((t) => t.name),
    orphans: [...classifications, ...segments].filter((r) => !ids.has(r.track_id)).length,
  };
}, tasks);
const made = [];

try {
  await step('the page loads with the models', async () => {
    await page.goto(url);
    await page.waitForSelector('[data-testid=engine].ready', { timeout: TIMEOUT });
  });

  await step('500 files, 10% broken: every file a row, exactly the broken ones in error, every good one kept and exported', async () => {
    const batch = await folder(500, 1, 'batch');
    made.push(batch.dir);
    assert.equal(batch.broken.length, 50);
    const started = Date.now();
    await page.setInputFiles('[data-testid=file-input]', batch.paths);
    await page.waitForFunction(() => document.querySelector('[data-testid=batch-summary]')?.textContent.startsWith('500 of 500 finished'),
      null, { timeout: 5 * TIMEOUT });
    console.log(`     500 files classified in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const all = await rows();
    assert.equal(all.length, 500);
    assert.deepEqual(new Set(all.map((r) => r.name)), new Set([...batch.good, ...batch.broken]));
    const failed = all.filter((r) => r.status === 'failed');
    assert.deepEqual(failed.map((r) => r.name).sort(), [...batch.broken].sort(), 'exactly the broken files fail');
    for (const row of failed) assert.ok(row.text.length > 15 && !/panic|undefined/i.test(row.text), `${row.name}: a readable reason, not "${row.text}"`);
    assert.match(all.find((r) => r.name.endsWith('image.mp3')).text, /PNG/);
    assert.match(all.find((r) => r.name.endsWith('truncated.wav')).text, /truncated/i);
    assert.ok(all.filter((r) => r.status !== 'failed').every((r) => r.status === 'done'));
    await page.waitForFunction(() => document.querySelector('[data-testid=library-count]')?.textContent === '450');
    const db = await stored();
    assert.deepEqual(db.names.sort(), [...batch.good].sort(), 'IndexedDB holds every good file');
    assert.deepEqual(db.incomplete, []);
    assert.equal(db.orphans, 0);
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
    const csv = (await readFile(await csvDownload.path(), 'utf8')).trim().split('\r\n');
    assert.equal(csv.length, 451, 'CSV: a header and 450 tracks');
    for (const name of batch.good) assert.ok(csv.some((line) => line.includes(name)), `${name} in the CSV`);
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-json]')]);
    const json = JSON.parse(await readFile(await jsonDownload.path(), 'utf8'));
    assert.deepEqual(json.map((t) => t.name).sort(), [...batch.good].sort(), 'JSON: the 450 tracks');
  });

  await step('cancelling a running batch (keyboard) keeps the classified tracks whole and marks the rest cancelled', async () => {
    await page.click('text=Clear finished');
    const batch = await folder(200, 5, 'cancel');
    made.push(batch.dir);
    const before = await libraryCount();
    await page.setInputFiles('[data-testid=file-input]', batch.paths);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=job][data-status=done]').length >= 3);
    const cancel = page.locator('[data-testid=cancel-batch]');
    assert.match(await cancel.getAttribute('aria-label'), /cancel/i);
    await cancel.focus();
    await page.keyboard.press('Enter');
    await settled();
    const all = await rows();
    const done = all.filter((r) => r.status === 'done').map((r) => r.name);
    const cancelled = all.filter((r) => r.status === 'cancelled');
    console.log(`     ${done.length} classified, ${cancelled.length} cancelled`);
    assert.equal(all.length, 200);
    assert.ok(cancelled.length > 100, `most files cancelled (${cancelled.length})`);
    assert.equal(done.length + cancelled.length, 200, 'every row classified or cancelled');
    assert.ok(cancelled.every((r) => r.text === 'cancelled'));
    assert.match(await page.textContent('[data-testid=batch-summary]'), new RegExp(`^200 of 200 finished, 0 failed, ${cancelled.length} cancelled`));
    assert.equal(await cancel.count(), 0, 'no Cancel once nothing waits');
    await page.waitForFunction((n) => document.querySelector('[data-testid=library-count]')?.textContent === String(n), before + done.length);
    const check = async () => {
      const db = await stored();
      assert.equal(db.names.length, before + done.length);
      for (const name of done) assert.ok(db.names.includes(name), `${name} kept`);
      for (const row of cancelled) assert.ok(!db.names.includes(row.name), `${row.name} not kept`);
      assert.deepEqual(db.incomplete, []);
      assert.equal(db.orphans, 0);
    };
    await check();
    await page.reload();
    await page.waitForFunction((n) => document.querySelector('[data-testid=library-count]')?.textContent === String(n), before + done.length);
    await check();
  });

  await step('a file past the size limit is refused on its row before it is read; the batch goes on', async () => {
    await page.waitForSelector('[data-testid=engine].ready', { timeout: TIMEOUT });
    const batch = await folder(1, 1, 'limit');
    made.push(batch.dir);
    const huge = join(batch.dir, 'huge.wav');
    await writeFile(huge, wav(1, 0));
    await truncate(huge, 1.5 * 2 ** 30);   // sparse: 1.5 GiB long, nothing stored
    const started = Date.now();
    await page.setInputFiles('[data-testid=file-input]', [huge, ...batch.paths]);
    await settled();
    const all = await rows();
    const row = all.find((r) => r.name === 'huge.wav');
    assert.equal(row.status, 'failed');
    assert.match(row.text, /1536 MB.*at most 1024 MB/);
    assert.equal(all.find((r) => r.name === 'limit-000.wav').status, 'done');
    const seconds = (Date.now() - started) / 1000;
    console.log(`     refused in a batch that took ${seconds.toFixed(1)} s`);
  });

  await step('no request left the origin, no CSP violation, no panic', async () => {
    assert.deepEqual(trouble(), []);
  });
} catch {
  // Reported by step().
} finally {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
  await finish();
}
