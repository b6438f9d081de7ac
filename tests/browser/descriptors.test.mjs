// The musical descriptors in the browser app: after classifying the 12 s fixture (120 BPM,
// C major) and the 128 BPM drum pattern, the page shows tempo, key, loudness, energy and
// danceability beside the verdicts and the beats on the timeline; after a reload the library
// still has them (IndexedDB); the tempo range and key filters include and exclude tracks; sorting
// by tempo orders them; the CSV export has the CLI's descriptor columns with values, the JSON
// export the descriptors object. Run by scripts/test-browser.sh with the fixture models:
//   DIST=<dist dir with models/> node descriptors.test.mjs
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { session } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = resolve(process.env.DIST ?? join(repo, 'dist'));
const artifacts = resolve(process.env.ARTIFACTS ?? join(here, 'artifacts'));
const audio = (name) => join(repo, 'tests/fixtures/audio', name);
const MUSIC = 'music_12s_22050_mono.flac';
const DRUMS = 'drums_128bpm_22050_mono.flac';
const COLUMNS = ['tempo_bpm', 'key', 'loudness_lufs', 'loudness_range_lu', 'peak_dbfs', 'true_peak_dbtp', 'energy', 'danceability'];

const s = await session({ dist, artifacts, prefix: 'descriptors-' });
const { page, step } = s;

const ready = () => page.waitForSelector('[data-testid=engine].ready');
const libraryCount = (n) => page.waitForFunction(
  (m) => document.querySelector('[data-testid=library-count]')?.textContent === String(m), n);
/** The library's rows as shown: name, tempo and key cells. */
const library = () => page.$$eval('[data-testid=library-row]', (rows) => rows.map((r) => ({
  name: r.querySelector('th').textContent,
  tempo: r.querySelector('[data-testid=library-tempo]').textContent,
  key: r.querySelector('[data-testid=library-key]').textContent,
})));
/** The descriptors of the selected track as the page shows them. */
const shown = () => page.evaluate(() => {
  const text = (id) => document.querySelector(`[data-testid=${id}]`)?.textContent ?? null;
  const meter = (id) => document.querySelector(`[data-testid=${id}] [role=meter]`);
  return {
    bpm: Number(document.querySelector('[data-testid=descriptor-tempo]')?.dataset.bpm),
    tempo: text('descriptor-tempo'),
    key: text('descriptor-key'),
    loudness: text('descriptor-loudness'),
    energy: meter('descriptor-energy') && Number(meter('descriptor-energy').getAttribute('aria-valuenow')),
    danceability: meter('descriptor-danceability') && Number(meter('descriptor-danceability').getAttribute('aria-valuenow')),
    energyLabel: meter('descriptor-energy')?.getAttribute('aria-label'),
    beats: Number(document.querySelector('[data-testid=beats]')?.dataset.count ?? 0),
    beatsLabel: document.querySelector('[data-testid=beats]')?.getAttribute('aria-label'),
  };
});
async function select(name) {
  await page.locator('[data-testid=library-row] th button', { hasText: name }).first().click();
  await page.waitForFunction((n) => document.querySelector('[data-testid=track-name]')?.textContent === n, name);
}
function checkMusic(d, when) {
  assert.ok(Math.abs(d.bpm - 120) <= 2.4, `${when}: tempo ${d.bpm} within 2% of 120 BPM`);
  assert.match(d.tempo, /^1[12]\d\.\d BPM$/, when);
  assert.equal(d.key, 'C major', when);
  assert.match(d.loudness, /^-\d+\.\d LUFSrange \d+\.\d LU · true peak -?\d+\.\d dBTP$/, `${when}: loudness "${d.loudness}"`);
  for (const score of [d.energy, d.danceability]) assert.ok(score >= 0 && score <= 100, `${when}: a 0–100 bar (${score})`);
  assert.ok(d.danceability > 0, `${when}: a steady beat is danceable (${d.danceability})`);
  assert.equal(d.energyLabel, 'energy (0 to 100)');
  // About 2 beats a second over 12 s.
  assert.ok(d.beats >= 18 && d.beats <= 26, `${when}: ${d.beats} beat ticks`);
  assert.match(d.beatsLabel, /^\d+ beats, 1[12]\d\.\d BPM$/);
}

try {
  await step('classified tracks show tempo, key, loudness, energy and danceability, and beat ticks', async () => {
    await page.goto(s.url);
    await ready();
    await page.setInputFiles('[data-testid=file-input]', [audio(MUSIC), audio(DRUMS)]);
    await page.waitForFunction(() => document.querySelector('[data-testid=batch-summary]')?.textContent.startsWith('2 of 2 finished, 0 failed'));
    await libraryCount(2);
    await select(MUSIC);
    const music = await shown();
    console.log(`     ${MUSIC}: ${music.tempo}, ${music.key}, ${music.loudness}, energy ${music.energy}, danceability ${music.danceability}, ${music.beats} beats`);
    checkMusic(music, 'after classifying');
    await page.locator('[data-testid=track-view]').screenshot({ path: join(artifacts, 'descriptors.png') });
    await select(DRUMS);
    const drums = await shown();
    console.log(`     ${DRUMS}: ${drums.tempo}, ${drums.key}, ${drums.loudness}, energy ${drums.energy}, danceability ${drums.danceability}, ${drums.beats} beats`);
    // The tracker may lock on half or double tempo of a drum pattern (librosa does too).
    assert.ok([64, 128, 256].some((t) => Math.abs(drums.bpm - t) <= t * 0.05), `drums at ${drums.bpm} BPM (128, or an octave)`);
  });

  await step('after a reload the library lists tempo and key, and the track view shows the descriptors', async () => {
    await page.reload();
    await ready();
    await libraryCount(2);
    const rows = await library();
    const music = rows.find((r) => r.name === MUSIC);
    assert.ok(Math.abs(Number(music.tempo) - 120) <= 2.4, `library tempo "${music.tempo}"`);
    assert.equal(music.key, 'C major');
    assert.ok(Number(rows.find((r) => r.name === DRUMS).tempo) > 0);
    await select(MUSIC);
    checkMusic(await shown(), 'after a reload');
  });

  await step('the tempo range and the key filter include and exclude tracks; sort by tempo', async () => {
    const drumsTempo = Number((await library()).find((r) => r.name === DRUMS).tempo);
    const names = async () => (await library()).map((r) => r.name).sort();
    const range = async (min, max) => {
      await page.fill('[data-testid=tempo-min]', String(min));
      await page.fill('[data-testid=tempo-max]', String(max));
    };
    await range(110, 130);
    const inRange = drumsTempo >= 110 && drumsTempo <= 130;
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=library-row]').length === n, inRange ? 2 : 1);
    assert.ok((await names()).includes(MUSIC), '120 BPM is within 110–130');
    await range(125, 200);
    assert.ok(!(await names()).includes(MUSIC), '120 BPM is outside 125–200');
    await range('', '');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=library-row]').length === 2);
    await page.selectOption('[data-testid=filter-key]', 'C major');
    const keyed = await library();
    assert.ok(keyed.every((r) => r.key === 'C major') && keyed.some((r) => r.name === MUSIC), JSON.stringify(keyed));
    await page.selectOption('[data-testid=filter-key]', 'minor');
    assert.ok(!(await names()).includes(MUSIC), 'C major is not a minor key');
    await page.selectOption('[data-testid=filter-key]', '');
    await page.selectOption('[data-testid=sort]', 'tempo');
    const tempos = (await library()).map((r) => Number(r.tempo));
    assert.deepEqual(tempos, [...tempos].sort((a, b) => a - b), 'slowest first');
    await page.selectOption('[data-testid=sort]', 'newest');
  });

  await step('the CSV export has the descriptor columns with values, the JSON export the descriptors', async () => {
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
    const csv = await readFile(await csvDownload.path(), 'utf8');
    await writeFile(join(artifacts, 'descriptors.csv'), csv);
    const [header, ...lines] = csv.trim().split('\r\n');
    const head = header.split(',');
    assert.deepEqual(head.slice(-COLUMNS.length), COLUMNS, header);
    const row = lines.find((l) => l.startsWith(`${MUSIC},`)).split(',');
    const cell = (c) => row[head.indexOf(c)];
    assert.ok(Math.abs(Number(cell('tempo_bpm')) - 120) <= 2.4, `tempo_bpm ${cell('tempo_bpm')}`);
    assert.equal(cell('key'), 'C major');
    for (const c of ['loudness_lufs', 'loudness_range_lu', 'peak_dbfs', 'true_peak_dbtp', 'energy', 'danceability']) {
      assert.match(cell(c), /^-?\d+\.\d+$/, `${c} = "${cell(c)}"`);
    }
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-json]')]);
    const json = JSON.parse(await readFile(await jsonDownload.path(), 'utf8'));
    const d = json.find((t) => t.name === MUSIC).report.descriptors;
    assert.equal(d.key, 'C major');
    assert.ok(Math.abs(d.tempo_bpm - 120) <= 2.4 && d.beats_s.length >= 18 && typeof d.loudness_lufs === 'number', JSON.stringify(d));
  });

  await step('no request left the origin, no CSP violation, no panic', async () => {
    assert.deepEqual(s.trouble(), []);
  });
} catch {
  // Reported by step().
} finally {
  await s.finish();
}
