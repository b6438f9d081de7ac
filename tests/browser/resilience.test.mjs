// The browser app when things go wrong or come in odd shapes: the worker dies in the middle of a
// file (the app restarts it, that file's row says so, the next files are classified), the worker
// hangs in an endless loop on a file (the watchdog, set to 3 s by `?stall=3`, does the same), a
// storage quota too small for the service worker's offline copy does not stop a reload, and a real
// folder dropped on the drop zone (Chromium's own drag and drop through the DevTools protocol,
// with directory entries read recursively). Run by scripts/test-browser.sh with the fixture models:
//   DIST=<dist dir with models/> node resilience.test.mjs
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allWorkersReady, session } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = resolve(process.env.DIST ?? join(repo, 'dist'));
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, 'artifacts'));
const audio = (name) => join(repo, 'tests/fixtures/audio', name);

// A copy of the app whose worker crashes in the middle of any file named `crash-*`: when the
// worker's wasm code builds the first progress report of such a file, setting its `fraction`
// field (through an import that, unlike postMessage, catches nothing) throws. The exception
// unwinds through the wasm analysis without running its destructors (its state left half
// borrowed, as after a trap) and leaves the worker's task queue uncaught, so it reaches the page
// as the worker's `error` event: the path of a panic or an out-of-memory trap mid-file.
const crashing = await mkdtemp(join(tmpdir(), 'musicat-crashing-'));
await cp(dist, crashing, { recursive: true });
const loader = await readFile(join(dist, 'worker_loader.js'), 'utf8');
await writeFile(join(crashing, 'worker_loader.js'), `// Test double (resilience.test.mjs): crashes mid-file on files named crash-*,
// loops forever mid-file on files named hang-*.
let crashJob = null;
let hangJob = null;
self.addEventListener('message', (event) => {
  const d = event.data;
  if (d && d.kind === 'analyze') crashJob = /^crash-/.test(d.name) ? d.job : null;
  if (d && d.kind === 'analyze') hangJob = /^hang-/.test(d.name) ? d.job : null;
});
Object.defineProperty(Object.prototype, 'fraction', {
  configurable: true,
  set(value) {
    if (this.kind === 'progress' && this.job === crashJob) throw new Error('simulated worker crash in the middle of a file');
    if (this.kind === 'progress' && this.job === hangJob) for (;;) {}
    Object.defineProperty(this, 'fraction', { value, writable: true, enumerable: true, configurable: true });
  },
});
${loader}`);

const s = await session({ dist: crashing, artifacts, prefix: 'resilience-' });
const { step } = s;
let page = s.page;
const jobs = () => page.$$eval('[data-testid=job]', (rows) => rows.map((r) => ({
  name: r.querySelector('.job-name').textContent,
  status: r.dataset.status,
  text: r.querySelector('[data-testid=job-status]').textContent,
})));
const finished = (n) => page.waitForFunction(
  (m) => document.querySelector('[data-testid=batch-summary]')?.textContent.startsWith(`${m} of ${m} finished`), n);

try {
  await step('the worker dies in the middle of a file: that row fails, the worker restarts, the next files finish', async () => {
    await page.goto(s.url);
    await page.waitForSelector('[data-testid=engine].ready');
    const folder = await mkdtemp(join(tmpdir(), 'musicat-crash-'));
    const files = [
      ['before.wav', 'tone_s16_22050_stereo.wav'],
      ['crash-me.wav', 'tone_s16_22050_stereo.wav'],
      ['after.flac', 'music_12s_22050_mono.flac'],
      ['after.ogg', 'music_stereo_44100.ogg'],
    ];
    for (const [name, source] of files) await copyFile(audio(source), join(folder, name));
    await page.setInputFiles('[data-testid=file-input]', files.map(([name]) => join(folder, name)));
    await finished(files.length);
    const rows = await jobs();
    const status = Object.fromEntries(rows.map((r) => [r.name, r.status]));
    assert.deepEqual(status, { 'before.wav': 'done', 'crash-me.wav': 'failed', 'after.flac': 'done', 'after.ogg': 'done' }, JSON.stringify(rows));
    const crash = rows.find((r) => r.name === 'crash-me.wav');
    assert.match(crash.text, /analyser stopped on this file .*simulated worker crash.*restarted/, crash.text);
    await page.waitForSelector('[data-testid=engine].ready');
    assert.match(await page.textContent('[data-testid=batch-summary]'), /4 of 4 finished, 1 failed/);
    assert.equal(await page.textContent('[data-testid=library-count]'), '3');
    // The restarted worker classifies more files.
    await page.setInputFiles('[data-testid=file-input]', [audio('tone_s16_44100_mono.wav')]);
    await finished(files.length + 1);
    assert.equal((await jobs()).at(-1).status, 'done');
    await rm(folder, { recursive: true });
  });

  await step('a file split over both workers crashes both: its row fails once, both restart, the next file is split again', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'musicat-crash-'));
    await copyFile(audio('music_12s_22050_mono.flac'), join(folder, 'crash-alone.flac'));
    const before = (await jobs()).length;
    await page.setInputFiles('[data-testid=file-input]', [join(folder, 'crash-alone.flac')]);
    await finished(before + 1);
    const row = (await jobs()).at(-1);
    assert.equal(row.status, 'failed');
    assert.match(row.text, /analyser stopped on this file .*simulated worker crash.*restarted/, row.text);
    await allWorkersReady(page);
    await page.setInputFiles('[data-testid=file-input]', [audio('music_12s_22050_mono.flac')]);
    await finished(before + 2);
    assert.equal((await jobs()).at(-1).status, 'done');
    const workers = await page.getAttribute('[data-testid=engine]', 'data-workers');
    assert.equal(await page.locator('[data-testid=job]').last().getAttribute('data-workers'), workers);
    await rm(folder, { recursive: true });
  });

  await step('the worker hangs in the middle of a file: the watchdog fails that row, restarts it, the next files finish', async () => {
    const url = new URL(s.url);
    url.searchParams.set('stall', '3');
    await page.goto(url.href);
    await page.waitForSelector('[data-testid=engine].ready');
    const folder = await mkdtemp(join(tmpdir(), 'musicat-hang-'));
    const files = [
      ['first.wav', 'tone_s16_22050_stereo.wav'],
      ['hang-me.wav', 'tone_s16_22050_stereo.wav'],
      ['next.flac', 'music_12s_22050_mono.flac'],
    ];
    for (const [name, source] of files) await copyFile(audio(source), join(folder, name));
    const before = (await jobs()).length;
    await page.setInputFiles('[data-testid=file-input]', files.map(([name]) => join(folder, name)));
    await finished(before + files.length);
    const rows = (await jobs()).slice(before);
    const status = Object.fromEntries(rows.map((r) => [r.name, r.status]));
    assert.deepEqual(status, { 'first.wav': 'done', 'hang-me.wav': 'failed', 'next.flac': 'done' }, JSON.stringify(rows));
    const hung = rows.find((r) => r.name === 'hang-me.wav');
    assert.match(hung.text, /analyser stopped responding on this file \(nothing for [3-9] s\).*restarted/, hung.text);
    await page.waitForSelector('[data-testid=engine].ready');
    await rm(folder, { recursive: true });
  });

  await step('a folder dragged onto the drop zone (Chromium drag and drop): its audio files, subfolders too', async () => {
    const root = await mkdtemp(join(tmpdir(), 'musicat-drop-'));
    const album = join(root, 'album');
    await mkdir(join(album, 'disc 2'), { recursive: true });
    await copyFile(audio('music_stereo_44100.ogg'), join(album, 'one.ogg'));
    await copyFile(audio('short_1.5s_22050_mono.wav'), join(album, 'disc 2', 'two.wav'));
    await writeFile(join(album, 'cover.txt'), 'not audio');
    const before = (await jobs()).length;
    const box = await page.locator('[data-testid=drop-zone]').boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    const cdp = await s.context.newCDPSession(page);
    const data = { items: [], files: [album], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
    await finished(before + 2);
    const added = (await jobs()).slice(before).map((j) => [j.name, j.status]);
    assert.deepEqual(added, [['album/disc 2/two.wav', 'done'], ['album/one.ogg', 'done']]);
    await rm(root, { recursive: true });
  });

  await step('with a storage quota too small for the app, a reload still starts the analyser and classifies', async () => {
    // The service worker keeps every fetched file for offline use; when the disk is nearly full
    // that fails, and the page must still get its files from the network. Its cache is emptied
    // first so that the reload has to store the 18 MB worker wasm again (this fails with a
    // service worker that lets the failed store fail the fetch).
    const cdp = await s.context.newCDPSession(page);
    await page.evaluate(async () => Promise.all((await caches.keys()).map((name) => caches.delete(name))));
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(s.url).origin, quotaSize: 4 << 20 });
    await page.reload();
    await page.waitForSelector('[data-testid=engine].ready');
    const before = (await jobs()).length;
    await page.setInputFiles('[data-testid=file-input]', [audio('tone_s16_44100_mono.wav')]);
    await finished(before + 1);
    assert.equal((await jobs()).at(-1).status, 'done');
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(s.url).origin });
  });

  await step('no request left the origin, no CSP violation, no panic', async () => {
    assert.deepEqual(s.trouble(), []);
  });
} catch {
  // Reported by step().
} finally {
  await rm(crashing, { recursive: true, force: true });
  await s.finish();
}
