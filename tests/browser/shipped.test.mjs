// The shipped models (models/) in the browser: every bundle of models/index.json, and every other
// bundle shipped beside them (a head such as `tags` before the index lists it), loads in the worker
// with the backbone it names and classifies a real file; a multi-label task shows its top 5 tags;
// with only backbone heads on, the spectrogram is still a picture; a user's own head uses the
// shipped backbone (and one naming a missing backbone is refused with the reason); and it all
// works offline. Run by scripts/test-browser.sh when dist/ has shipped models:
//   DIST=<dist dir> node shipped.test.mjs
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { session } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = resolve(process.env.DIST ?? join(repo, 'dist'));
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, 'artifacts'));
const fixture = join(repo, 'tests/fixtures/audio/music_12s_22050_mono.flac');
const TOP_LABELS = 3;
const TOP_TAGS = 5;

// Serve a copy of dist/ whose index lists the indexed bundles and every other one shipped.
const served = await mkdtemp(join(tmpdir(), 'musicat-shipped-dist-'));
await cp(dist, served, { recursive: true });
const models = join(served, 'models');
const index = JSON.parse(await readFile(join(models, 'index.json'), 'utf8'));
const files = await readdir(models);
const shipped = files.filter((f) => f.endsWith('.json') && files.includes(f.replace(/\.json$/, '.onnx'))).map((f) => f.slice(0, -5));
const bundles = [...index.bundles, ...shipped.filter((b) => !index.bundles.includes(b)).sort()];
await writeFile(join(models, 'index.json'), JSON.stringify({ bundles }));

const sidecars = {};
for (const name of bundles) sidecars[name] = JSON.parse(await readFile(join(models, `${name}.json`), 'utf8'));
const tasks = bundles.map((b) => sidecars[b].task).sort();
const heads = bundles.filter((b) => sidecars[b].backbone);
const plain = bundles.filter((b) => !sidecars[b].backbone);
for (const head of heads) {
  assert.ok(existsSync(join(models, sidecars[head].backbone.file)), `${head}'s backbone ${sidecars[head].backbone.file} is shipped`);
}
const multiLabel = (task) => Object.values(sidecars).some((s) => s.task === task && s.activation === 'sigmoid');

// The shipped models are real ones (a backbone and its heads), so every wait may take longer.
const browser = await session({ dist: served, artifacts, timeout: 300_000, prefix: 'shipped-' });
const { page, context, url, step, trouble } = browser;
// What the page itself fetched (not its service worker's precache), and how often it was loaded.
const pageRequests = [];
let loads = 0;
page.on('request', (r) => pageRequests.push(new URL(r.url()).pathname));
page.on('load', () => { loads += 1; });

const ready = () => page.waitForSelector('[data-testid=engine].ready');
async function classify(path) {
  const before = await page.locator('[data-testid=job]').count();
  const started = Date.now();
  await page.setInputFiles('[data-testid=file-input]', [path]);
  await page.waitForFunction((n) => document.querySelector('[data-testid=batch-summary]')?.textContent.startsWith(`${n} of ${n} finished`), before + 1);
  const ms = Date.now() - started;
  const row = page.locator('[data-testid=job]').nth(before);
  const status = `${await row.getAttribute('data-status')}: ${await row.locator('[data-testid=job-status]').textContent()}`;
  assert.equal(status, 'done: done');
  await row.locator('.job-name').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=spectrogram]'));
  return ms;
}
/** Verdicts (task, label, number of top labels shown, multi-label) of the track shown, and its picture's spread of colours. */
async function view() {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid=spectrogram]');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const levels = new Set();
    for (let i = 0; i < pixels.length; i += 4) levels.add(pixels[i] * 65536 + pixels[i + 1] * 256 + pixels[i + 2]);
    return {
      verdicts: [...document.querySelectorAll('[data-testid=verdict]')].map((v) => ({
        task: v.dataset.task,
        label: v.querySelector('[data-testid=verdict-label]').textContent,
        tops: [...v.querySelectorAll('.top-item')].map((t) => [t.querySelector('.top-label').textContent, parseFloat(t.querySelector('.top-score').textContent)]),
        multi: v.dataset.multiLabel === 'true',
      })),
      picture: { width: canvas.width, height: canvas.height, colours: levels.size },
    };
  });
}
function checkVerdicts(verdicts, expected) {
  assert.deepEqual(verdicts.map((v) => v.task), expected);
  for (const v of verdicts) {
    const labels = Object.values(sidecars).find((s) => s.task === v.task).labels;
    assert.ok(labels.includes(v.label), `${v.task}: ${v.label} is a label of the model`);
    assert.equal(v.multi, multiLabel(v.task), `${v.task} is shown as ${v.multi ? 'multi-label' : 'one label'}`);
    const k = Math.min(v.multi ? TOP_TAGS : TOP_LABELS, labels.length);
    assert.equal(v.tops.length, k, `${v.task}: top ${k}`);
    assert.equal(v.tops[0][0], v.label, `${v.task}: the verdict is the first of its top`);
    for (const [label] of v.tops) assert.ok(labels.includes(label), `${v.task}: ${label}`);
    const sum = v.tops.reduce((s, [, p]) => s + p, 0);
    if (!v.multi) assert.ok(sum <= 100 + TOP_LABELS, `${v.task}: one label's top scores sum to at most 100% (${sum})`);
  }
}

try {
  await step(`every shipped bundle (${bundles.join(', ')}) loads with its backbone and classifies a file`, async () => {
    await page.goto(url);
    await ready();
    assert.equal(await page.textContent('[data-testid=engine]'), `ready: ${tasks.join(', ')}`);
    const ms = await classify(fixture);
    const { verdicts, picture } = await view();
    checkVerdicts(verdicts, tasks);
    assert.ok(picture.width > 0 && picture.height > 0 && picture.colours > 8, `a spectrogram is drawn ${JSON.stringify(picture)}`);
    await page.screenshot({ path: join(artifacts, 'shipped.png'), fullPage: true });
    const tags = verdicts.filter((v) => v.multi).map((v) => `${v.task}: ${v.tops.map(([l, p]) => `${l} ${p}%`).join(', ')}`);
    console.log(`     ${ms} ms to the verdicts: ${verdicts.map((v) => `${v.task} ${v.label}`).join(', ')}${tags.length ? `; ${tags.join('; ')}` : ''}`);
    if (index.bundles.length < bundles.length) console.log(`     (models/index.json lists ${index.bundles.join(', ')}; also tested: ${bundles.filter((b) => !index.bundles.includes(b)).join(', ')})`);
  });

  if (heads.length && plain.length) {
    await step(`with only the backbone heads (${heads.join(', ')}) on, the spectrogram is drawn from the backbone's input`, async () => {
      for (const name of plain) {
        await page.locator(`[data-testid=model][data-name="${name}"] input[type=checkbox]`).uncheck();
      }
      const headTasks = heads.map((b) => sidecars[b].task).sort();
      await page.waitForFunction((t) => document.querySelector('[data-testid=engine]')?.textContent === `ready: ${t}`, headTasks.join(', '));
      await classify(fixture);
      const { verdicts, picture } = await view();
      checkVerdicts(verdicts, headTasks);
      assert.ok(picture.width > 0 && picture.height > 0 && picture.colours > 8, `a spectrogram is drawn ${JSON.stringify(picture)}`);
      await page.locator('[data-testid=spectrogram]').screenshot({ path: join(artifacts, 'shipped-backbone-spectrogram.png') });
      for (const name of plain) {
        await page.locator(`[data-testid=model][data-name="${name}"] input[type=checkbox]`).check();
      }
      await page.waitForFunction((t) => document.querySelector('[data-testid=engine]')?.textContent === `ready: ${t}`, tasks.join(', '));
    });
  }

  if (heads.length) {
    const head = heads[0];
    await step(`your own head (${head}) uses the shipped backbone; one naming a missing backbone is refused with the reason`, async () => {
      const mine = await mkdtemp(join(tmpdir(), 'musicat-own-head-'));
      try {
        await cp(join(models, `${head}.onnx`), join(mine, 'mine.onnx'));
        await writeFile(join(mine, 'mine.json'), JSON.stringify({ ...sidecars[head], task: 'mine' }));
        await page.setInputFiles('[data-testid=model-input]', [join(mine, 'mine.onnx'), join(mine, 'mine.json')]);
        const own = page.locator('[data-testid=model][data-name="mine"]');
        await own.locator('.model-detail', { hasText: `mine · ${sidecars[head].labels.length} labels` }).waitFor();
        assert.equal(await own.locator('.model-error').count(), 0);
        await page.waitForFunction(() => /^ready: .*\bmine\b/.test(document.querySelector('[data-testid=engine]')?.textContent));
        await own.locator('button', { hasText: 'remove' }).click();
        await page.waitForFunction((t) => document.querySelector('[data-testid=engine]')?.textContent === `ready: ${t}`, tasks.join(', '));

        const missing = { ...sidecars[head], task: 'orphan', backbone: { ...sidecars[head].backbone, file: 'backbone/not_shipped.onnx' } };
        await cp(join(models, `${head}.onnx`), join(mine, 'orphan.onnx'));
        await writeFile(join(mine, 'orphan.json'), JSON.stringify(missing));
        await page.setInputFiles('[data-testid=model-input]', [join(mine, 'orphan.onnx'), join(mine, 'orphan.json')]);
        const notice = page.locator('.notices li', { hasText: 'your model "orphan" was not loaded' });
        await notice.waitFor();
        assert.match(await notice.textContent(), /backbone\/not_shipped\.onnx.*no backbone/);
        assert.equal(await page.locator('[data-testid=model][data-name="orphan"]').count(), 0);
      } finally {
        await rm(mine, { recursive: true, force: true });
      }
    });
  }

  await step('offline: the models and their backbones come from the service worker\'s cache', async () => {
    await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
    const cached = await page.evaluate(async () => (await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname)))).flat());
    for (const head of heads) assert.ok(cached.some((p) => p.endsWith(`/models/${sidecars[head].backbone.file}`)), `${sidecars[head].backbone.file} is cached`);
    await context.setOffline(true);
    try {
      await page.reload();
      await ready();
      assert.equal(await page.textContent('[data-testid=engine]'), `ready: ${tasks.join(', ')}`);
      await classify(fixture);
      checkVerdicts((await view()).verdicts, tasks);
    } finally {
      await context.setOffline(false);
    }
  });

  await step('each backbone and the workers\' wasm were fetched once per page load; no request left the origin; no panic', async () => {
    for (const file of new Set(heads.map((h) => sidecars[h].backbone.file))) {
      const fetched = pageRequests.filter((p) => p.endsWith(`/models/${file}`)).length;
      assert.equal(fetched, loads, `${file} fetched ${fetched} times in ${loads} page loads`);
    }
    // The first worker compiles it and the page starts the others (one per core) from its compiled module.
    const workers = await page.getAttribute('[data-testid=engine]', 'data-workers');
    const wasm = pageRequests.filter((p) => p.endsWith('/worker_bg.wasm')).length;
    assert.equal(wasm, loads, `worker_bg.wasm fetched ${wasm} times in ${loads} page loads by ${workers} workers`);
    assert.deepEqual(trouble(), []);
  });
} catch {
  // Reported by step().
} finally {
  await rm(served, { recursive: true, force: true });
}
await browser.finish();
