// Browser tests of the Musicat app: Debian's Chromium (headless) driven by playwright-core
// against the trunk build served from a local static server. Run by scripts/test-browser.sh:
//   DIST=<dist dir with models/> MODELS=<dir of the model bundles served> node app.test.mjs
// Screenshots go to ARTIFACTS (default tests/browser/artifacts).
import assert from 'node:assert/strict';
import { cp, mkdtemp, mkdir, readFile, copyFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.mjs';
import { allWorkersReady, longestMainThreadTask, session as start, TIMEOUT, wav } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = resolve(process.env.DIST ?? join(repo, 'dist'));
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, 'artifacts'));
const audio = (name) => join(repo, 'tests/fixtures/audio', name);
const bad = (name) => join(repo, 'tests/fixtures/bad', name);

const GOOD = {
  'music_stereo_44100.mp3': audio('music_stereo_44100.mp3'),
  'music_stereo_22050.flac': audio('music_stereo_22050.flac'),
  'music_stereo_44100.ogg': audio('music_stereo_44100.ogg'),
  'tone_s16_22050_stereo.wav': audio('tone_s16_22050_stereo.wav'),
  'music_stereo_44100.m4a': audio('music_stereo_44100.m4a'),
  'music_12s_22050_mono.flac': audio('music_12s_22050_mono.flac'),
};
const BAD = {
  'image.mp3': { path: bad('image.mp3'), message: /PNG/i },
  'truncated.mp3': { path: bad('truncated.mp3'), message: /truncated/i },
  'empty.mp3': { path: bad('empty.mp3'), message: /empty/i },
};

const index = JSON.parse(await readFile(join(dist, 'models/index.json'), 'utf8'));
const sidecars = {};
for (const name of index.bundles) {
  const sidecar = JSON.parse(await readFile(join(dist, 'models', `${name}.json`), 'utf8'));
  sidecars[sidecar.task] = sidecar;
}
const tasks = Object.keys(sidecars).sort();

const session = await start({ dist, artifacts });
const { context, origin, requests, problems, step } = session;
const server = { url: session.url };
let page = session.page;
// Long main-thread tasks are recorded.
await context.addInitScript(() => {
  window.__longest = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
  }).observe({ type: 'longtask' });
});

async function waitReady() {
  await page.waitForSelector('[data-testid=engine].ready', { timeout: TIMEOUT });
}
async function batchFinished(total) {
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid=batch-summary]')?.textContent.startsWith(`${n} of ${n} finished`),
    total, { timeout: TIMEOUT });
}
async function jobs() {
  return page.$$eval('[data-testid=job]', (rows) => rows.map((r) => ({
    name: r.querySelector('.job-name').textContent,
    status: r.dataset.status,
    text: r.querySelector('[data-testid=job-status]').textContent,
  })));
}
async function show(name) {
  await page.locator('[data-testid=job] .job-name', { hasText: name }).first().click();
  await page.waitForFunction((n) => document.querySelector('[data-testid=track-name]')?.textContent === n, name);
}
async function trackView() {
  return page.evaluate(() => ({
    verdicts: [...document.querySelectorAll('[data-testid=verdict]')].map((v) => ({
      task: v.dataset.task,
      label: v.querySelector('[data-testid=verdict-label]').textContent,
      tops: v.querySelectorAll('.top-item').length,
    })),
    slices: [...document.querySelectorAll('[data-testid=slice]')].map((s) => s.getAttribute('aria-label')),
    canvas: (() => { const c = document.querySelector('[data-testid=spectrogram]'); return c ? [c.width, c.height] : null; })(),
    audio: document.querySelector('audio')?.src ?? null,
    clock: document.querySelector('[data-testid=clock]')?.textContent,
  }));
}

try {
  await step('the page loads, says nothing leaves the machine, and the worker loads the models', async () => {
    const started = Date.now();
    await page.goto(server.url);
    await waitReady();
    console.log(`     first load to ready: ${Date.now() - started} ms`);
    assert.match(await page.textContent('body'), /never leave this machine/);
    const engine = await page.textContent('[data-testid=engine]');
    for (const task of tasks) assert.ok(engine.includes(task), `engine badge "${engine}" lists ${task}`);
  });

  await step('good files get verdicts, a timeline and a spectrogram; broken ones their own error', async () => {
    const files = [...Object.values(GOOD), BAD['image.mp3'].path, BAD['truncated.mp3'].path];
    // A broken file first and in the middle: the batch must go on after it.
    files.splice(0, 0, BAD['empty.mp3'].path);
    assert.ok(await page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('longtask')), 'long tasks are observable');
    await page.evaluate(() => { window.__longest = 0; });
    const task = await longestMainThreadTask(context, page, async () => {
      await page.setInputFiles('[data-testid=file-input]', files);
      await batchFinished(files.length);
    });
    const longest = await page.evaluate(() => window.__longest);
    console.log(`     longest main-thread task during the batch: ${task.cpu.toFixed(1)} ms of CPU, ${task.wall.toFixed(1)} ms wall-clock (Long Tasks API: ${longest || 'none over 50'} ms), ${task.tasks} tasks`);
    // The goal: no task of the page's thread over 100 ms. Its CPU time is the page's own work; the
    // wall-clock time also counts the time a loaded 2-core machine gives the core to other
    // processes (the two workers classify meanwhile), so it fails the test only on a real stall
    // (a blocking call): a task of 56 ms of CPU once took 276 ms of wall-clock time in CI, where
    // 130-200 ms is usual.
    assert.ok(task.cpu < 100, `no main-thread task takes 100 ms of CPU while the worker classifies (longest ${task.cpu} ms)`);
    assert.ok(longest < 400, `the page stays responsive while the worker classifies (longest task ${longest} ms)`);
    const rows = await jobs();
    assert.equal(rows.length, files.length);
    for (const name of Object.keys(GOOD)) {
      const row = rows.find((r) => r.name === name);
      assert.equal(row?.status, 'done', `${name}: ${row?.text}`);
    }
    for (const [name, { message }] of Object.entries(BAD)) {
      const row = rows.find((r) => r.name === name);
      assert.equal(row?.status, 'failed', `${name} should fail`);
      assert.match(row.text, message, `${name}'s message "${row.text}"`);
    }
    assert.match(await page.textContent('[data-testid=batch-summary]'), /, 3 failed/);
    for (const name of Object.keys(GOOD)) {
      await show(name);
      const view = await trackView();
      assert.deepEqual(view.verdicts.map((v) => v.task), tasks, `${name}: one verdict per task`);
      for (const v of view.verdicts) {
        assert.ok(sidecars[v.task].labels.includes(v.label), `${name}: ${v.task} verdict "${v.label}" is a label of the model`);
        assert.equal(v.tops, Math.min(3, sidecars[v.task].labels.length), `${name}: top 3 of ${v.task}`);
      }
      assert.ok(view.slices.length >= tasks.length, `${name}: timeline has slices (${view.slices.length})`);
      assert.ok(view.canvas && view.canvas[0] > 0 && view.canvas[1] > 0, `${name}: spectrogram drawn ${view.canvas}`);
      assert.ok(view.audio?.startsWith('blob:'), `${name}: player plays the file from an object URL`);
    }
  });

  await step('the 12 s track has two 5 s slices per task (the 2 s tail is too short); clicking one seeks the player there', async () => {
    await show('music_12s_22050_mono.flac');
    const view = await trackView();
    assert.equal(view.slices.length, 2 * tasks.length, view.slices.join(' | '));
    assert.match(view.slices[1], /^0:05–0:10 /);
    await page.locator('[data-testid=slice]').nth(1).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=clock]').textContent.startsWith('0:05 /'));
    await page.waitForFunction(() => Math.abs(document.querySelector('audio').currentTime - 5) < 0.5);
    assert.equal(await page.locator('[data-testid=slice].current').count(), tasks.length, 'the current slice of each task is highlighted');
    // Keyboard: a slice is a button; Enter on the first one seeks back to 0:00.
    await page.locator('[data-testid=slice]').nth(0).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=clock]').textContent.startsWith('0:00 /'));
    await page.locator('[data-testid=slice]').nth(1).click();
    await page.screenshot({ path: join(artifacts, 'desktop.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifacts, 'desktop-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(artifacts, 'phone.png'), fullPage: true });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `nothing sticks out sideways at phone width (page is ${width} px wide)`);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step('a folder picked with the folder picker: its audio files, not the rest', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'musicat-folder-'));
    await mkdir(join(folder, 'album'));
    await copyFile(audio('music_stereo_44100.ogg'), join(folder, 'album', 'one.ogg'));
    await copyFile(audio('short_1.5s_22050_mono.wav'), join(folder, 'album', 'two.wav'));
    await writeFile(join(folder, 'album', 'cover.txt'), 'not audio');
    const before = (await jobs()).length;
    await page.setInputFiles('[data-testid=folder-input]', join(folder, 'album'));
    await batchFinished(before + 2);
    const added = (await jobs()).slice(before);
    assert.deepEqual(added.map((j) => [j.name.split('/').pop(), j.status]).sort(), [['one.ogg', 'done'], ['two.wav', 'done']]);
    await rm(folder, { recursive: true });
  });

  await step('a file dropped on the drop zone is classified', async () => {
    const bytes = (await readFile(audio('tone_s16_44100_mono.wav'))).toString('base64');
    const before = (await jobs()).length;
    await page.evaluate((b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], 'dropped.wav', { type: 'audio/wav' }));
      const zone = document.querySelector('[data-testid=drop-zone]');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, bytes);
    await batchFinished(before + 1);
    const last = (await jobs()).at(-1);
    assert.deepEqual([last.name, last.status], ['dropped.wav', 'done']);
  });

  const classified = Object.keys(GOOD).length + 3;
  await step('the library keeps the tracks after a reload', async () => {
    await page.waitForFunction((n) => document.querySelector('[data-testid=library-count]')?.textContent === String(n), classified);
    await page.reload();
    await waitReady();
    await page.waitForFunction((n) => document.querySelector('[data-testid=library-count]')?.textContent === String(n), classified);
    const names = await page.$$eval('[data-testid=library-row] th', (c) => c.map((x) => x.textContent));
    for (const name of Object.keys(GOOD)) assert.ok(names.includes(name), `${name} in the library after reload`);
    // The stores hold the entities of the README's diagram.
    const stores = await page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open('musicat');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result, names = [...db.objectStoreNames], out = {};
        const tx = db.transaction(names);
        for (const name of names) tx.objectStore(name).getAll().onsuccess = (e) => { out[name] = e.target.result; };
        tx.oncomplete = () => resolve(out);
      };
    }));
    assert.deepEqual(Object.keys(stores).sort(), ['classifications', 'labels', 'models', 'segments', 'tracks']);
    assert.equal(stores.tracks.length, classified);
    assert.equal(stores.classifications.length, classified * tasks.length);
    const flacTrack = stores.tracks.find((t) => t.name === 'music_12s_22050_mono.flac');
    const flacVerdicts = stores.classifications.filter((c) => c.track_id === flacTrack.id);
    assert.deepEqual(flacVerdicts.map((c) => [c.task, c.model]).sort(), tasks.map((t) => [t, t]));
    assert.equal(stores.segments.filter((s) => s.track_id === flacTrack.id).length, 2 * tasks.length);
    const labelCount = Object.values(sidecars).reduce((n, s) => n + s.labels.length, 0);
    assert.equal(stores.labels.length, labelCount);
    assert.deepEqual(stores.models.map((m) => [m.id, m.task, m.labels.length]).sort(),
      index.bundles.map((b) => [b, sidecars[b].task, sidecars[b].labels.length]).sort());
    // Results from an earlier visit still show verdicts and a timeline.
    await page.locator('[data-testid=library-row] th button', { hasText: 'music_12s_22050_mono.flac' }).click();
    const view = await trackView();
    assert.equal(view.verdicts.length, tasks.length);
    assert.equal(view.slices.length, 2 * tasks.length);
  });

  await step('search, filter and sort the library', async () => {
    await page.fill('[data-testid=search]', 'music_stereo');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=library-row]').length === 4);
    await page.fill('[data-testid=search]', '');
    const task = tasks[0];
    const label = await page.$eval(`[data-testid=filter-${task}] option:nth-child(2)`, (o) => o.value);
    await page.selectOption(`[data-testid=filter-${task}]`, label);
    const shown = await page.$$eval('[data-testid=library-row]', (r) => r.length);
    assert.ok(shown >= 1 && shown <= classified);
    const cells = await page.$$eval(`[data-testid=library-row] td[data-task=${task}]`, (c) => c.map((x) => x.textContent));
    assert.ok(cells.every((c) => c.startsWith(`${label} `)), `every row shown is ${label}: ${cells}`);
    await page.selectOption(`[data-testid=filter-${task}]`, '');
    await page.selectOption('[data-testid=sort]', 'name');
    const names = await page.$$eval('[data-testid=library-row] th', (c) => c.map((x) => x.textContent));
    assert.deepEqual(names, [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  });

  await step('CSV and JSON exports contain the tracks', async () => {
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
    const csv = await readFile(await csvDownload.path(), 'utf8');
    await writeFile(join(artifacts, 'library.csv'), csv);
    const lines = csv.trim().split('\r\n');
    const descriptorColumns = 'tempo_bpm,key,loudness_lufs,loudness_range_lu,peak_dbfs,true_peak_dbtp,energy,danceability';
    assert.equal(lines[0], ['name,format,duration_s,added_ms', ...tasks.map((t) => `${t},${t}_confidence,${t}_top3`), descriptorColumns].join(','));
    assert.equal(lines.length, 1 + classified);
    for (const name of Object.keys(GOOD)) assert.ok(lines.some((l) => l.startsWith(`${name},`)), `${name} in the CSV`);
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-json]')]);
    const json = JSON.parse(await readFile(await jsonDownload.path(), 'utf8'));
    assert.equal(json.length, classified);
    const flac = json.find((t) => t.name === 'music_12s_22050_mono.flac');
    assert.equal(flac.report.segments.length, 2);
    assert.deepEqual(Object.keys(flac.report.tasks).sort(), tasks);
  });

  await step('your own model: a valid bundle loads, is used and is remembered; a broken one is refused', async () => {
    const fixture = join(repo, 'tests/models/fixture');
    await page.setInputFiles('[data-testid=model-input]', [join(fixture, 'genre.onnx'), join(fixture, 'genre.json')]);
    const own = page.locator('[data-testid=model][data-name="genre (yours)"]');
    await own.locator('.model-detail', { hasText: 'genre · 3 labels' }).waitFor();
    assert.equal(await own.locator('.model-error').count(), 0);
    await waitReady();
    // It now does the genre task (a shipped genre model, if any, steps aside with a message).
    const before = (await jobs()).length;
    const libraryCount = await page.textContent('[data-testid=library-count]');
    await page.setInputFiles('[data-testid=file-input]', [audio('music_stereo_44100.mp3')]);
    await batchFinished(before + 1);
    const view = await trackView();
    const genre = view.verdicts.find((v) => v.task === 'genre');
    assert.ok(['alpha', 'beta', 'gamma'].includes(genre?.label), `own model's label: ${genre?.label}`);
    // Classified again, the file's library row is replaced (one row per file, the latest verdicts).
    assert.equal(await page.textContent('[data-testid=library-count]'), libraryCount);
    const rows = page.locator('[data-testid=library-row]', { has: page.locator('th', { hasText: /^music_stereo_44100\.mp3$/ }) });
    assert.equal(await rows.count(), 1);
    assert.match(await rows.locator('td[data-task=genre]').textContent(), /^(alpha|beta|gamma) /);
    // A bundle whose sidecar does not match its model is refused with a clear message.
    const mismatch = join(repo, 'tests/models/mismatch');
    const { readdir } = await import('node:fs/promises');
    const broken = (await readdir(mismatch)).filter((f) => /\.(onnx|json)$/.test(f)).map((f) => join(mismatch, f));
    await page.setInputFiles('[data-testid=model-input]', broken.slice(0, 2));
    await page.waitForSelector('.notices li:has-text("was not loaded")');
    await page.reload();
    await waitReady();
    await own.locator('.model-detail', { hasText: 'genre · 3 labels' }).waitFor();
  });

  await step('offline: after a load the app works with the network off', async () => {
    await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
    await context.setOffline(true);
    await page.reload();
    await waitReady();
    // The library, read back from IndexedDB, kept only the latest result of the file classified twice.
    const named = (n) => page.locator('[data-testid=library-row] th', { hasText: n });
    await named(/^music_stereo_44100\.mp3$/).first().waitFor();
    assert.equal(await named(/^music_stereo_44100\.mp3$/).count(), 1);
    const before = (await jobs()).length;
    await page.setInputFiles('[data-testid=file-input]', [audio('music_stereo_44100.ogg')]);
    await batchFinished(before + 1);
    assert.equal((await jobs()).at(-1).status, 'done');
    await context.setOffline(false);
  });

  await step('delete one track, then all', async () => {
    const count = async () => Number(await page.textContent('[data-testid=library-count]'));
    const n = await count();
    await page.locator('[data-testid=library-row] button.danger').first().click();
    await page.waitForFunction((m) => document.querySelector('[data-testid=library-count]').textContent === String(m), n - 1);
    await page.click('[data-testid=delete-all]');
    await page.click('[data-testid=delete-all-yes]');
    await page.waitForFunction(() => document.querySelector('[data-testid=library-count]').textContent === '0');
    await page.reload();
    await waitReady();
    assert.equal(await count(), 0);
  });

  await step('a file dropped before the analyser is ready waits for it and is classified', async () => {
    await page.goto(server.url);
    await page.waitForSelector('[data-testid=drop-zone]');
    const early = !(await page.$('[data-testid=engine].ready'));
    await page.setInputFiles('[data-testid=file-input]', audio('music_12s_22050_mono.flac'));
    await batchFinished(1);
    assert.equal((await jobs())[0].status, 'done');
    console.log(`     dropped ${early ? 'before' : 'after'} the analyser was ready`);
  });

  await step('a file split over two workers gets the report one worker gives', async () => {
    // 30 s, alone in the batch: the first share decodes it, measures the descriptors and relays the
    // samples to the second, keeping the share of the segments that balances their work.
    const folder = await mkdtemp(join(tmpdir(), 'musicat-split-'));
    const track = join(folder, 'split_30s.wav');
    await writeFile(track, wav(30));
    const reports = {};
    for (const workers of [1, 2]) {
      const url = new URL(server.url);
      url.searchParams.set('workers', String(workers));
      await page.goto(url.toString());
      await allWorkersReady(page);
      assert.equal(await page.getAttribute('[data-testid=engine]', 'data-workers'), String(workers));
      // Alone in the batch, the file goes to every free worker in shares.
      await page.setInputFiles('[data-testid=file-input]', track);
      await batchFinished(1);
      assert.equal(await page.getAttribute('[data-testid=job]', 'data-workers'), String(workers));
      // Each worker's time per stage: only the first share decodes and measures the descriptors;
      // the other is relayed the samples and given segments.
      const stages = JSON.parse(await page.getAttribute('[data-testid=job-status]', 'data-stages'));
      assert.equal(stages.length, workers);
      assert.ok(stages[0].decode > 0 && stages[0].descriptors > 0, JSON.stringify(stages));
      assert.ok(stages.slice(1).every((s) => s.decode === 0 && s.descriptors === 0 && s.inference > 0 && s.waiting > 0), JSON.stringify(stages));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-json]')]);
      const json = JSON.parse(await readFile(await download.path(), 'utf8'));
      reports[workers] = json.filter((t) => t.name === 'split_30s.wav').sort((a, b) => b.added_ms - a.added_ms)[0].report;
    }
    const [one, two] = [reports[1], reports[2]];
    await rm(folder, { recursive: true });
    assert.equal(one.segments.length, 6);
    assert.deepEqual(two.segments, one.segments);
    assert.deepEqual(two.descriptors, one.descriptors);
    assert.deepEqual(Object.keys(two.tasks), Object.keys(one.tasks));
    for (const [task, verdict] of Object.entries(one.tasks)) {
      assert.equal(two.tasks[task].label, verdict.label, task);
      for (const [label, score] of Object.entries(verdict.scores)) {
        assert.ok(Math.abs(two.tasks[task].scores[label] - score) < 1e-5, `${task} ${label}: ${two.tasks[task].scores[label]} vs ${score}`);
      }
    }
  });

  await step('a file split over two workers that turns out damaged fails once; the next file is split again', async () => {
    // Two workers, as the step before left the page. The first share finds the file cut short
    // after relaying most of its samples: the row fails once and the second worker is released.
    const folder = await mkdtemp(join(tmpdir(), 'musicat-split-bad-'));
    const whole = wav(30);
    await writeFile(join(folder, 'cut_short.wav'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    await writeFile(join(folder, 'after.wav'), wav(12));
    const before = await page.locator('[data-testid=job]').count();
    await page.setInputFiles('[data-testid=file-input]', join(folder, 'cut_short.wav'));
    await batchFinished(before + 1);
    const row = page.locator('[data-testid=job]').last();
    assert.equal(await row.getAttribute('data-status'), 'failed');
    assert.equal(await row.getAttribute('data-workers'), '2');
    assert.match(await row.locator('[data-testid=job-status]').textContent(), /truncated/);
    await page.setInputFiles('[data-testid=file-input]', join(folder, 'after.wav'));
    await batchFinished(before + 2);
    const next = page.locator('[data-testid=job]').last();
    assert.equal(await next.getAttribute('data-status'), 'done');
    assert.equal(await next.getAttribute('data-workers'), '2');
    await rm(folder, { recursive: true });
  });

  await step('no request left the origin, no CSP violation, no panic', async () => {
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'requests to other origins');
    assert.ok(requests.length > 5, `requests were recorded (${requests.length})`);
    assert.deepEqual(problems, []);
  });
  await step('a worker that cannot start is reported (not restarted forever) and files fail with the reason', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'musicat-broken-'));
    await cp(dist, broken, { recursive: true });
    await writeFile(join(broken, 'worker_bg.wasm'), 'this is not WebAssembly');
    const other = await serve(broken);
    try {
      page = session.page = await context.newPage();
      await page.goto(other.url);
      await page.waitForFunction(() => /cannot start/.test(document.querySelector('[data-testid=engine]')?.textContent));
      await page.setInputFiles('[data-testid=file-input]', [audio('music_stereo_44100.mp3')]);
      await batchFinished(1);
      const [row] = await jobs();
      assert.equal(row.status, 'failed');
      assert.match(row.text, /cannot start/);
    } finally {
      await other.close();
      await rm(broken, { recursive: true, force: true });
    }
  });
} catch {
  // Reported by step().
} finally {
  await session.finish();
}
