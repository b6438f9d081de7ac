// Smoke test of the shipped models (models/index.json) in the browser: the page loads them all
// and classifies a real file with every one. Run by scripts/test-browser.sh when dist/ has them.
//   DIST=<dist dir> node shipped.test.mjs
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, chromiumOptions } from './serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = resolve(process.env.DIST ?? join(repo, 'dist'));
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, 'artifacts'));
await mkdir(artifacts, { recursive: true });

const index = JSON.parse(await readFile(join(dist, 'models/index.json'), 'utf8'));
const labels = {};
for (const name of index.bundles) {
  const sidecar = JSON.parse(await readFile(join(dist, 'models', `${name}.json`), 'utf8'));
  labels[sidecar.task] = sidecar.labels;
}
const tasks = Object.keys(labels).sort();

const server = await serve(dist);
const profile = await mkdtemp(join(tmpdir(), 'musicat-shipped-'));
const { executablePath, args } = chromiumOptions(profile);
const context = await chromium.launchPersistentContext(profile, {
  executablePath, args: args.filter((a) => !a.startsWith('--user-data-dir')), headless: true,
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(300_000);
let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(server.url);
  await page.waitForSelector('[data-testid=engine].ready');
  const engine = await page.textContent('[data-testid=engine]');
  assert.equal(engine, `ready: ${tasks.join(', ')}`);
  await page.setInputFiles('[data-testid=file-input]', [join(repo, 'tests/fixtures/audio/music_12s_22050_mono.flac')]);
  await page.waitForSelector('[data-testid=job][data-status=done], [data-testid=job][data-status=failed]');
  const status = await page.$eval('[data-testid=job]', (r) => `${r.dataset.status}: ${r.querySelector('[data-testid=job-status]').textContent}`);
  assert.equal(status, 'done: done');
  const verdicts = await page.$$eval('[data-testid=verdict]', (v) => v.map((x) => [x.dataset.task, x.querySelector('[data-testid=verdict-label]').textContent]));
  assert.deepEqual(verdicts.map(([t]) => t), tasks);
  for (const [task, label] of verdicts) assert.ok(labels[task].includes(label), `${task}: ${label}`);
  await page.screenshot({ path: join(artifacts, 'shipped.png') });
  console.log(`ok   the shipped models (${tasks.join(', ')}) load and classify in the browser: ${verdicts.map((v) => v.join(' ')).join(', ')}`);
} catch (error) {
  failed = true;
  console.log(`FAIL the shipped models in the browser\n${error.stack ?? error}`);
} finally {
  await context.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
