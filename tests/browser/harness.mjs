// A headless Chromium session on a served dist/ for a browser test file: the page, its named
// steps (a failing step saves a screenshot and stops the file), and what must never happen
// (a panic, an uncaught error, a CSP violation, a request outside the origin).
import { chromium } from 'playwright-core';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, chromiumOptions } from './serve.mjs';

export const TIMEOUT = 120_000;

/**
 * Serves `dist` and launches Chromium on it. Resolves to the session: `page` (reassign it when a
 * test moves to another page, so a failure's screenshot shows that one), `context`, `url`,
 * `origin`, every request's URL in `requests`, `problems` seen, `step(name, body)`,
 * `trouble()` and `finish()` (closes everything and exits with the outcome). `timeout` is the
 * default for every wait (TIMEOUT unless given); `prefix` starts each failure screenshot's name.
 */
export async function session({ dist, artifacts, timeout = TIMEOUT, prefix = '' }) {
  await mkdir(artifacts, { recursive: true });
  const server = await serve(dist);
  const profile = await mkdtemp(join(tmpdir(), 'musicat-chromium-'));
  const { executablePath, args } = chromiumOptions(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    args: args.filter((a) => !a.startsWith('--user-data-dir')),
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(timeout);
  // Every CSP violation is reported on the console (and caught below).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content-Security-Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push(r.url()));
  context.on('weberror', (e) => problems.push(`page error: ${e.error()}`));
  const watch = (p) => {
    p.on('console', (m) => {
      const text = m.text();
      if (/Content.Security.Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
      if (m.type() === 'error' && /panicked|RuntimeError|unreachable/i.test(text)) problems.push(`panic: ${text}`);
    });
    p.on('pageerror', (e) => problems.push(`uncaught: ${e}`));
  };
  context.on('page', watch);
  const origin = new URL(server.url).origin;
  let failures = 0;
  const s = {
    page: context.pages()[0] ?? (await context.newPage()),
    context,
    url: server.url,
    origin,
    requests,
    problems,
    /** Runs one named test; a failure is reported with a screenshot and rethrown. */
    async step(name, body) {
      const started = Date.now();
      try {
        await body();
        console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failures += 1;
        console.log(`FAIL ${name}\n${error.stack ?? error}`);
        const file = join(artifacts, `failure-${prefix}${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
        await s.page.screenshot({ path: file, fullPage: true }).catch(() => {});
        throw error;
      }
    },
    /** Requests that left the origin, and panics, uncaught errors and CSP violations seen so far. */
    trouble() {
      const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
      return [...foreign.map((u) => `request outside the origin: ${u}`), ...problems];
    },
    async finish() {
      await context.close();
      await server.close();
      await rm(profile, { recursive: true, force: true });
      console.log(failures ? `\n${failures} browser test(s) failed` : '\nall browser tests passed');
      process.exit(failures ? 1 : 0);
    },
  };
  watch(s.page);
  return s;
}

/**
 * Runs `body` while Chromium traces `page` (DevTools protocol) and resolves to the longest task
 * of the page's main thread: `wall` (ms, what the Long Tasks API reports: on a loaded machine it
 * includes the time the OS gave the thread's core to other processes) and `cpu` (ms of the
 * thread's own CPU time, the page's work), each the maximum over the tasks run meanwhile; also
 * `tasks` (how many) and `totalCpu` (ms of CPU time of them all: the main thread shares the cores
 * with the workers).
 */
export async function longestMainThreadTask(context, page, body) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  await cdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['toplevel', '__metadata', 'disabled-by-default-devtools.timeline'] },
    transferMode: 'ReportEvents',
  });
  try {
    await body();
  } finally {
    const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  // The page's renderer process (its primary main frame) and that process's main thread.
  const frames = events.find((e) => e.name === 'TracingStartedInBrowser')?.args?.data?.frames ?? [];
  const pid = frames.find((f) => f.isOutermostMainFrame ?? f.isInPrimaryMainFrame)?.processId;
  const main = events.find((e) => e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain');
  const tasks = events.filter((e) => e.name === 'RunTask' && e.ph === 'X' && main && e.pid === main.pid && e.tid === main.tid);
  if (!tasks.length) throw new Error('no main-thread task was traced');
  const max = (key) => Math.max(...tasks.map((t) => (t[key] ?? 0) / 1000));
  const totalCpu = tasks.reduce((sum, t) => sum + (t.tdur ?? 0) / 1000, 0);
  return { wall: max('dur'), cpu: max('tdur'), tasks: tasks.length, totalCpu };
}

/**
 * Records milestones on the page's own clock (ms since navigation started), so that timings
 * exclude the lag of the test driver's polling: `interactive` (drop zone drawn), `ready` (the
 * analyser holds the models), `allReady` (every worker does), `dropped` (files handed to the
 * input) and `finished k` (the batch summary says "k of k finished"). Call before navigating.
 */
export async function recordMilestones(page) {
  await page.addInitScript(() => {
    const marks = (window.__marks = {});
    const mark = (key) => { marks[key] ??= performance.now(); };
    document.addEventListener('change', (e) => {
      if (e.target.matches?.('[data-testid=file-input]')) marks.dropped = performance.now();
    }, true);
    new MutationObserver(() => {
      if (document.querySelector('[data-testid=drop-zone]')) mark('interactive');
      const badge = document.querySelector('[data-testid=engine].ready');
      if (badge) mark('ready');
      if (badge && badge.dataset.workersReady === badge.dataset.workers) mark('allReady');
      const done = document.querySelector('[data-testid=batch-summary]')?.textContent.match(/^(\d+) of (\d+) finished/);
      if (done && done[1] === done[2]) mark(`finished ${done[1]}`);
    }).observe(document, { subtree: true, attributes: true, childList: true, characterData: true });
  });
}

/**
 * Waits for milestone `key` (at most `timeout` ms) by asking the page every 50 ms. Unlike waitForSelector and
 * waitForFunction, this does not load Playwright's selector engine into the page (~0.3 MB of
 * script, 0.1–0.2 s of its main thread), which would be timed with the page's first load.
 */
export async function untilMilestone(page, key, timeout = 600_000) {
  const end = Date.now() + timeout;
  while (!(await page.evaluate((k) => window.__marks?.[k] !== undefined, key))) {
    if (Date.now() > end) throw new Error(`no "${key}" after ${timeout / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The milestones recorded so far (see `recordMilestones`). */
export function milestones(page) {
  return page.evaluate(() => window.__marks);
}

/** Waits until every worker of the app's pool holds the models (the badge is ready from the first). */
export async function allWorkersReady(page) {
  await page.waitForFunction(() => {
    const badge = document.querySelector('[data-testid=engine].ready');
    return badge && badge.dataset.workersReady === badge.dataset.workers;
  });
}

/** A stereo 44.1 kHz 16-bit WAV of `seconds` of chords, beats and a little noise. */
export function wav(seconds) {
  const rate = 44100, frames = Math.round(seconds * rate);
  const buffer = Buffer.alloc(44 + frames * 4);
  buffer.write('RIFF', 0); buffer.writeUInt32LE(36 + frames * 4, 4); buffer.write('WAVEfmt ', 8);
  buffer.writeUInt32LE(16, 16); buffer.writeUInt16LE(1, 20); buffer.writeUInt16LE(2, 22);
  buffer.writeUInt32LE(rate, 24); buffer.writeUInt32LE(rate * 4, 28); buffer.writeUInt16LE(4, 32);
  buffer.writeUInt16LE(16, 34); buffer.write('data', 36); buffer.writeUInt32LE(frames * 4, 40);
  const chords = [[261.6, 329.6, 392.0], [349.2, 440.0, 523.3], [392.0, 493.9, 587.3], [261.6, 329.6, 392.0]];
  let seed = 1;
  for (let i = 0; i < frames; i++) {
    const t = i / rate, chord = chords[Math.floor(t / 1.5) % 4], beat = t % 0.5;
    let v = chord.reduce((s, f) => s + 0.2 * Math.sin(2 * Math.PI * f * t), 0) * Math.exp(-3 * beat);
    v += 0.3 * Math.exp(-beat / 0.00125) * Math.sin(2 * Math.PI * 3000 * t);
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    v += 0.02 * (seed / 0x7fffffff - 0.5);
    const s = Math.max(-32767, Math.min(32767, Math.round(v * 32767)));
    buffer.writeInt16LE(s, 44 + i * 4); buffer.writeInt16LE(s, 46 + i * 4);
  }
  return buffer;
}
