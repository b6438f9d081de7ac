// Benchmark (not a test) of the time one model set takes in the app: for each models folder given,
// the app is served with that folder as its shipped models (the rest of DIST unchanged), loaded in a
// fresh headless Chromium profile, given a 30-second clip to warm up, then TRACK; the time from
// handing TRACK to the page to its verdict is printed as one JSON line per run:
//   {"config": <folder's name>, "run": 1, "ms": 1876}
//   DIST=<dist dir> TRACK=<audio file> [RUNS=3] node bench_tasks.mjs <models folder>…
// bench/task_times.sh makes the folders (one task's bundle, with its backbone) and runs this.
import { chromium } from 'playwright-core';
import { mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { serve, chromiumOptions } from './serve.mjs';
import { milestones, recordMilestones, untilMilestone, wav } from './harness.mjs';

const dist = resolve(process.env.DIST ?? 'dist');
const track = resolve(process.env.TRACK ?? '');
const runs = Number(process.env.RUNS ?? 3);
const folders = process.argv.slice(2).map((f) => resolve(f));
if (!process.env.TRACK || !folders.length) {
  console.error('usage: DIST=<dist> TRACK=<audio file> [RUNS=3] node bench_tasks.mjs <models folder>…');
  process.exit(2);
}

const work = await mkdtemp(join(tmpdir(), 'musicat-bench-tasks-'));
const warmUp = join(work, 'warm_up_30s.wav');
await writeFile(warmUp, wav(30));

/** A root serving DIST with `models` as its models folder (links, nothing copied). */
async function rootWith(models) {
  const root = await mkdtemp(join(work, 'root-'));
  for (const entry of await readdir(dist)) {
    if (entry !== 'models') await symlink(join(dist, entry), join(root, entry));
  }
  await symlink(models, join(root, 'models'));
  return root;
}

/** Drops `file` on the page and waits until batch item `n` is finished; ms on the page's clock. */
async function classify(page, file, n) {
  await page.setInputFiles('[data-testid=file-input]', file);
  await untilMilestone(page, `finished ${n}`);
  const status = await page.$$eval('[data-testid=job]', (rows) => rows.at(-1).dataset.status);
  if (status !== 'done') throw new Error(`${basename(file)} ended "${status}"`);
  const m = await milestones(page);
  return m[`finished ${n}`] - m.dropped;
}

for (const models of folders) {
  const server = await serve(await rootWith(models));
  for (let run = 1; run <= runs; run++) {
    const profile = await mkdtemp(join(work, 'profile-'));
    const { executablePath, args } = chromiumOptions(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath, args: args.filter((a) => !a.startsWith('--user-data-dir')), headless: true,
    });
    context.setDefaultTimeout(600_000);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await recordMilestones(page);
      await page.goto(server.url);
      await untilMilestone(page, 'allReady');
      await classify(page, warmUp, 1);
      const ms = await classify(page, track, 2);
      console.log(JSON.stringify({ config: basename(models), run, ms: Math.round(ms) }));
    } finally {
      await context.close();
    }
  }
  await server.close();
}
await rm(work, { recursive: true, force: true });
